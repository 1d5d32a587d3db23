/** The training service: `serve(options)`, a Fastify server with the jobs API and the dashboard. */
export { serve, type ServeOptions } from './server.js';
