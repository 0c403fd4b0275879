import * as fs from 'node:fs';
import * as path from 'node:path';
import express, { Router } from 'express';
import { openSessionRouter, UiSessions } from './ui-session';

/** Where `npm run build` puts the page (web/ bundled by esbuild): dist/ui. src/http and dist/http both sit two folders below the root. */
export const UI_DIR = path.join(__dirname, '..', '..', 'dist', 'ui');

/**
 * `GET /ui`: the operator's page (SPEC §11), static files built from web/, and `/ui/session`. The
 * files are open to everyone (the page asks for a token when the daemon has a tokens file); what
 * they show comes from the API, which checks access. Nothing is loaded from anywhere else: the
 * Content-Security-Policy says so to the browser too.
 */
export function createUiRouter(options: { sessions?: UiSessions; dir?: string }): Router {
  const dir = options.dir ?? UI_DIR;
  const router = Router();
  router.use('/ui', (_req, res, next) => {
    res.set({
      'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    });
    next();
  });
  router.use(options.sessions ? options.sessions.router() : openSessionRouter());
  const index = path.join(dir, 'index.html');
  const sendIndex: express.RequestHandler = (_req, res) => {
    if (!fs.existsSync(index)) {
      res.status(503).type('text/plain').send('The page is not built: run `npm run build` (it bundles web/ into dist/ui).\n');
      return;
    }
    res.set('Cache-Control', 'no-cache').sendFile(index);
  };
  router.get(['/ui', '/ui/', '/ui/index.html'], sendIndex);
  router.use('/ui', express.static(dir, { index: false, fallthrough: true, maxAge: 0, etag: true }));
  router.use('/ui', (_req, res) => { res.status(404).type('text/plain').send('not found\n'); });
  return router;
}
