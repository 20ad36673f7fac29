/** `excite serve`, `excite worker`, `excite migrate`: the service's processes. */
import { Command } from 'commander';
import { serviceConfig } from '../../config.ts';
import { redactUrl } from '../../db/database.ts';
import { openMigrated, startService, startWorkerProcess } from '../../service.ts';
import { type Dashboard, startDashboard } from '../dashboard.ts';
import { portNumber } from '../number-options.ts';

const port = portNumber('--port');

/** Stops on SIGINT/SIGTERM (a second signal exits at once). */
function stopOnSignal(stop: () => Promise<void>, log: (line: string) => void): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log(`excite: ${signal}: stopping (again to exit at once)`);
    stop().then(
      () => process.exit(0),
      (e) => {
        log(`excite: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
}

const where = (dataDir: string, databaseUrl?: string) => (databaseUrl ? `PostgreSQL ${redactUrl(databaseUrl)}, blobs in ${dataDir}` : `embedded database and blobs in ${dataDir}`);

export function serveCommand(): Command {
  return new Command('serve')
    .description('the GraphQL service (HTTP and WebSocket at /graphql, uploads, blobs) with its worker; DATABASE_URL selects PostgreSQL')
    .option('--port <n>', 'port (0: any free one)', port, 4000)
    .option('--host <host>', 'interface to listen on (default: all)')
    .option('--data <dir>', 'data directory: blobs, and the embedded database without DATABASE_URL', './data')
    .option('--no-worker', 'no worker in this process (PostgreSQL: excite worker processes run the jobs)')
    .option('--no-demo', 'do not register the demo models of models/demo')
    .option('--dashboard-port <n>', 'port of the dashboard (apps/dashboard, built on demand)', port, 3000)
    .option('--no-dashboard', 'serve the API only')
    .action(async (o: { port: number; host?: string; data: string; worker: boolean; demo: boolean; dashboard: boolean; dashboardPort: number }) => {
      const config = serviceConfig({ port: o.port, host: o.host, dataDir: o.data, worker: o.worker, demoModels: o.demo ? undefined : false });
      if (!config.worker && !config.databaseUrl) throw new Error('--no-worker needs DATABASE_URL: with the embedded database no other process can run the jobs');
      config.log(`excite: starting (${where(config.dataDir, config.databaseUrl)})`);
      const service = await startService(config);
      let dashboard: Dashboard | undefined;
      stopOnSignal(async () => {
        await dashboard?.stop();
        await service.stop();
      }, config.log);
      if (service.initialAdminToken) {
        console.log(`excite: first start: an admin token was created. It is shown this once (only its hash is stored):\n\n    ${service.initialAdminToken}\n\n  send it as Authorization: Bearer <token>; excite token create --role read|run|admin makes more`);
      }
      console.log(`excite: serving GraphQL at ${service.url}/graphql (WebSocket ws://${service.url.slice('http://'.length)}/graphql)${service.worker ? ', with a worker' : ''}`);
      if (o.dashboard) {
        dashboard = startDashboard({ port: o.dashboardPort, host: o.host, apiPort: service.port, apiUrl: `${service.url}/graphql`, log: config.log });
        dashboard.ready.then(
          (url) => {
            // the link checks the token, keeps it in an HTTP-only cookie and drops it from the address bar
            if (service.initialAdminToken) console.log(`excite: dashboard at ${url}/sign-in?token=${service.initialAdminToken} (the link signs in with the admin token)`);
            else console.log(`excite: dashboard at ${url}`);
          },
          (e: Error) => config.log(`excite: the dashboard is not served: ${e.message}\n  the API serves on (--no-dashboard: the API only)`),
        );
      }
    });
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('a worker that runs synthesis jobs of a shared PostgreSQL (DATABASE_URL); EXCITE_DEVICE picks its device')
    .option('--data <dir>', 'data directory of the blobs (shared with the API processes)', './data')
    .action(async (o: { data: string }) => {
      const config = serviceConfig({ dataDir: o.data });
      const worker = await startWorkerProcess(config);
      stopOnSignal(worker.stop, config.log);
      console.log(`excite: worker ${worker.worker.name} on ${worker.worker.device} (${where(config.dataDir, config.databaseUrl)})`);
    });
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply the database migrations (drizzle/) and exit; serve and worker do it at start-up too')
    .option('--data <dir>', 'data directory of the embedded database (without DATABASE_URL)', './data')
    .action(async (o: { data: string }) => {
      const config = serviceConfig({ dataDir: o.data });
      const database = await openMigrated(config);
      await database.close();
      console.log(`excite: migrations applied (${where(config.dataDir, config.databaseUrl)})`);
    });
}
