import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig, type HeraldConfig } from '@herald/config';
import {
  answerClientErrors,
  HeraldMetrics,
  httpMetrics,
  requestContext,
  ServerPorts,
  strictHttpAdapter,
} from '@herald/telemetry';
import {
  createTestDatabase,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';
import type { Express } from 'express';
import { createServer, type Server } from 'node:http';
import { Client } from 'pg';
import { register } from 'prom-client';
import { AppModule } from '../../apps/api/src/app.module';
import { configureHttp } from '../../apps/api/src/http/configure-http';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  key?: string | null;
  body?: unknown;
  /** Sent as is (with its own content type header when given). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

/**
 * The api booted in the test process (AppModule + configureHttp, the request-id and metrics
 * middleware serve() adds in production) on a fresh migrated database and Redis prefix, listening
 * on a free port. Faster to start than a real process and lets a test look inside.
 */
export class TestApi {
  private constructor(
    readonly app: NestExpressApplication,
    readonly config: HeraldConfig,
    readonly database: TestDatabase,
    readonly db: Client,
    readonly url: string,
    /** The ops listener (`/metrics`, `/internal/*`, probes), when started with `opsListener`. */
    readonly opsUrl: string | undefined,
    private readonly opsServer: Server | undefined,
    private readonly ownsDatabase: boolean,
  ) {}

  /** `database`: another app's, to share (this one then never drops it); a fresh one otherwise. */
  static async start(
    env: Record<string, string> = {},
    options: { opsListener?: boolean; database?: TestDatabase } = {},
  ): Promise<TestApi> {
    // prom-client keeps one process-wide registry; a second app in the same test file re-registers.
    register.clear();
    const database = options.database ?? (await createTestDatabase());
    const config = loadConfig(
      testEnvironment({
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        QUEUE_PREFIX: testRedisPrefix(),
        READY_REQUIRE_WORKERS: 'false',
        LOG_LEVEL: 'silent',
        API_RATE_LIMIT_PER_SECOND: '100000',
        API_RATE_LIMIT_BURST: '100000',
        // Tests send bad keys on purpose, all from 127.0.0.1; auth-throttle.int-spec sets its own limits.
        AUTH_FAILURE_LIMIT_PER_ADDRESS: '100000',
        AUTH_FAILURE_LIMIT_PER_KEY_PREFIX: '100000',
        ...env,
      }),
      { role: 'api' },
    );
    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.register(config),
      strictHttpAdapter(),
      {
        logger: false,
        bodyParser: false,
      },
    );
    configureHttp(app, config);
    const express: Express = app.getHttpAdapter().getInstance();
    express.use(requestContext());
    express.use(httpMetrics(app.get(HeraldMetrics)));
    await app.listen(0, '127.0.0.1');
    const server: Server = app.getHttpServer();
    answerClientErrors(server);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    // As serve() does in production: a second listener on the same app, told apart by port.
    let opsServer: Server | undefined;
    let opsUrl: string | undefined;
    if (options.opsListener) {
      const ops = createServer(express);
      await new Promise<void>((resolve) => ops.listen(0, '127.0.0.1', resolve));
      const opsAddress = ops.address();
      const opsPort = typeof opsAddress === 'object' && opsAddress ? opsAddress.port : 0;
      const ports = app.get(ServerPorts);
      ports.publicPort = port;
      ports.opsPort = opsPort;
      opsServer = ops;
      opsUrl = `http://127.0.0.1:${opsPort}`;
    }
    const db = new Client({ connectionString: database.url });
    await db.connect();
    return new TestApi(
      app,
      config,
      database,
      db,
      `http://127.0.0.1:${port}`,
      opsUrl,
      opsServer,
      options.database === undefined,
    );
  }

  async close(): Promise<void> {
    if (this.opsServer) {
      this.opsServer.closeAllConnections();
      await new Promise<void>((resolve) => this.opsServer!.close(() => resolve()));
    }
    await this.app.close();
    await this.db.end();
    if (this.ownsDatabase) await this.database.drop();
  }

  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const key = options.key === undefined ? TEST_ADMIN_KEY : options.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | Buffer | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.url + path, { method, headers, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: parseBody(text) as T, text };
  }

  /** A new tenant and its first (admin) key. */
  async createTenant(
    name = 'Acme',
    timeZone = 'Europe/Paris',
  ): Promise<{ id: string; key: string; keyId: string }> {
    const res = await this.request<{ id: string; api_key: { id: string; key: string } }>(
      'POST',
      '/v1/tenants',
      {
        body: { name, time_zone: timeZone },
      },
    );
    if (res.status !== 201) throw new Error(`tenant not created: ${res.status} ${res.text}`);
    return { id: res.body.id, key: res.body.api_key.key, keyId: res.body.api_key.id };
  }

  /**
   * A webhook sender account of the tenant whose key is given, to a public URL nothing answers
   * (tests that never send); returns its id.
   */
  async createWebhookAccount(key: string, name = 'Hook'): Promise<string> {
    const res = await this.request<{ id: string }>('POST', '/v1/sender-accounts', {
      key,
      body: {
        name,
        channel: 'webhook',
        config: { url: 'https://hooks.example.com/in', secret: 'x'.repeat(32) },
      },
    });
    if (res.status !== 201) throw new Error(`sender account not created: ${res.status} ${res.text}`);
    return res.body.id;
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query(sql, params)).rows as T[];
  }
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
