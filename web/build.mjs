// Bundles the operator's page (web/) into dist/ui: index.html, app.js, app.css. Run by `npm run build`.
// Everything the page needs is in these three files: nothing is fetched from elsewhere at run time.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'ui');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src', 'main.js') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  outdir: out,
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
const size = (f) => statSync(join(out, f)).size;
if (!process.env.QUIET) console.log(`web: dist/ui/app.js ${size('app.js')} B, app.css ${size('app.css')} B`);
