/**
 * The dashboard: one page (src/serve/static/: index.html, app.js, style.css, plain files with no build step)
 * and the two scripts it draws its charts with, Vega and Vega-Lite, from their packages in node_modules. All
 * are read once at start and served from memory by normnet itself: the page fetches nothing from anywhere
 * else, and its Content-Security-Policy says so to the browser. These routes need no token (they hold no
 * data); the page asks for one when the API answers 401.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The page's own files: shipped in the package as src/serve/static (package.json "files"). */
const STATIC = fileURLToPath(new URL('../../src/serve/static/', import.meta.url));

/**
 * Vega evaluates its expressions with `new Function` (hence 'unsafe-eval'); everything else comes from this
 * origin, and the page may talk to nothing but it.
 */
const PAGE_POLICY = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

function asset(path: string, type: string): Asset {
  const body = readFileSync(path);
  return { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
}

/** A UMD build beside a package's entry point (vega/build/vega.module.js -> vega/build/vega.min.js). */
function vendor(pkg: string, file: string): string {
  return join(dirname(createRequire(import.meta.url).resolve(pkg)), file);
}

export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const assets: Record<string, Asset> = {
    '/': asset(join(STATIC, 'index.html'), 'text/html; charset=utf-8'),
    '/app.js': asset(join(STATIC, 'app.js'), 'text/javascript; charset=utf-8'),
    '/style.css': asset(join(STATIC, 'style.css'), 'text/css; charset=utf-8'),
    '/vendor/vega.min.js': asset(vendor('vega', 'vega.min.js'), 'text/javascript; charset=utf-8'),
    '/vendor/vega-lite.min.js': asset(vendor('vega-lite', 'vega-lite.min.js'), 'text/javascript; charset=utf-8'),
  };
  for (const [url, file] of Object.entries(assets)) {
    app.get(url, async (request, reply) => {
      // Revalidated on every load (a new normnet may serve new files), answered 304 while unchanged.
      void reply.header('cache-control', 'no-cache').header('etag', file.etag).header('x-content-type-options', 'nosniff');
      if (url === '/') void reply.header('content-security-policy', PAGE_POLICY).header('referrer-policy', 'no-referrer');
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
      return reply.type(file.type).send(file.body);
    });
  }
}
