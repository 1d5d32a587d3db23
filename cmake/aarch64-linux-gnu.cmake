# Cross-compiling the addon for linux-arm64 on an x86-64 Debian/Ubuntu host with g++-aarch64-linux-gnu
# (`npm run prebuild:arm64` passes this file to cmake-js). The build links nothing but libc, libstdc++ and
# pthreads, which the cross compiler brings in /usr/aarch64-linux-gnu; Node-API headers come from node-api-headers.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
