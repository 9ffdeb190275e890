// console: the operator's web page over the services' HTTP APIs.
import { fileURLToPath } from 'node:url';
import { runService } from '@adsync/shared/runtime/service';
import { consoleConfigShape, upstreams } from './config.ts';
import { registerConsole } from './console-routes.ts';

await runService({
  name: 'console',
  config: consoleConfigShape,
  // The services check each call's key; the console holds no database credentials.
  needs: { postgres: false },
  listen: (cfg) => ({ host: cfg.CONSOLE_HOST, port: cfg.CONSOLE_PORT }),
  start: async (rt, app) => {
    await registerConsole(app, {
      distDir: fileURLToPath(new URL('../web/dist', import.meta.url)),
      upstreams: upstreams(rt.cfg),
    });
  },
});
