import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import {
  birthdayKeys,
  ContactImporter,
  ContactsService,
  readCsv,
  readJsonArray,
  type ContactFilter,
} from '@herald/contacts';
import { keysetPage } from '@herald/persistence';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import { finished } from 'node:stream/promises';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { IdempotencyService } from '../http/idempotency.service';
import { ImportConcurrency } from '../http/import-concurrency';
import { ApiRoute } from '../http/openapi';
import { ProblemException } from '../http/problem';
import { checkDeclaredLength, meteredRequest, requireMediaType } from '../http/request-body';
import { found, keysetAnswer } from '../http/resource-answers';
import { cursorPosition, IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import {
  contactBody,
  contactIdParams,
  contactListQuery,
  contactPatchBody,
  contactView,
  EXAMPLE_CONTACT,
  importView,
} from './contacts.schemas';

/**
 * How far an import's body is read ahead of its parser. A body sent briskly has then wholly
 * arrived early on, and the rest of it is written in the transaction while it is parsed; only a
 * slow body is staged all the way. Memory per import stays bounded by this.
 */
const IMPORT_READ_AHEAD_BYTES = 16 * 1024 * 1024;

const {
  id: _id,
  score: _s,
  tier: _t,
  created_at: _c,
  updated_at: _u,
  archived_at: _a,
  ...EXAMPLE_INPUT
} = EXAMPLE_CONTACT;

@Controller('v1/contacts')
export class ContactsController {
  constructor(
    private readonly contacts: ContactsService,
    private readonly importer: ContactImporter,
    private readonly idempotency: IdempotencyService,
    private readonly importSlots: ImportConcurrency,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  @Post()
  @ApiRoute({
    id: 'contacts.create',
    tag: 'contacts',
    access: 'write',
    summary: 'Create a contact',
    description:
      'A contact needs an email or an external_ref; each is unique within the tenant (409 when taken). Emails are stored lower-cased. Unknown fields are refused.',
    body: { schema: contactBody, example: EXAMPLE_INPUT },
    idempotent: true,
    success: { status: 201, description: 'The new contact.', schema: 'Contact', example: EXAMPLE_CONTACT },
    problems: ['conflict'],
  })
  create(
    @TenantKey() principal: TenantPrincipal,
    @Body(new ZodPipe(contactBody, 'body')) body: z.output<typeof contactBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => ({
      status: 201,
      body: contactView(await this.contacts.create(manager, principal.tenantId, body)),
    }));
  }

  @Get()
  @ApiRoute({
    id: 'contacts.list',
    tag: 'contacts',
    access: 'read',
    summary: 'List contacts',
    description:
      'Keyset pages in creation order (oldest first); filters combine with AND. Archived contacts only when asked for by status.',
    query: contactListQuery,
    success: {
      status: 200,
      description: 'A page of contacts.',
      schema: 'ContactList',
      example: {
        data: [EXAMPLE_CONTACT],
        next_cursor: 'WzEsMTc2MzgwNjUwMDAwMCwiMDE5MGY1ZTQtNmEyYi03YzNkLThlNGYtNWE2YjdjOGQ5ZTBmIl0',
      },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(contactListQuery, 'query')) query: z.output<typeof contactListQuery>,
    @Res({ passthrough: true }) res: Response,
  ) {
    const filter: ContactFilter = {};
    if (query.status) filter.statuses = query.status;
    if (query.tag) filter.tags = query.tag;
    if (query.birthday) {
      const keys = birthdayKeys(query.birthday, principal.tenantTimeZone);
      if (!keys) {
        throw ProblemException.of('validation-failed', 'The query string is invalid.', [
          { field: 'birthday', message: 'is not a real month-day' },
        ]);
      }
      filter.birthMonthDays = keys;
    }
    if (query.created_after) filter.createdAfter = new Date(query.created_after);
    if (query.created_before) filter.createdBefore = new Date(query.created_before);
    if (query.q) filter.q = query.q;
    const limit = query.limit ?? 50;
    const after = cursorPosition(query.cursor);
    // The hot read: Postgres renders each contact's JSON; the page is those strings joined.
    const views = await this.contacts.pageViews(principal.tenantId, filter, after, limit + 1);
    if (views) {
      const page = keysetPage(views, limit);
      res.type('application/json');
      return `{"data":[${page.rows.map((r) => r.json).join(',')}],"next_cursor":${JSON.stringify(page.nextCursor)}}`;
    }
    return keysetAnswer(
      await this.contacts.page(principal.tenantId, filter, after, limit + 1),
      limit,
      contactView,
    );
  }

  @Post('import')
  @HttpCode(200)
  @ApiRoute({
    id: 'contacts.import',
    tag: 'contacts',
    access: 'write',
    summary: 'Import contacts in bulk (JSON array or CSV)',
    description: [
      'Upserts by email, then external_ref: a row naming an existing contact updates it; later rows win within a body.',
      'A field a row leaves out (or an empty CSV cell) keeps the stored value; attributes merge key by key.',
      'Bad rows are reported (row, field, message) and skipped; the good ones are kept. The body is streamed (up to IMPORT_BODY_LIMIT) and staged; the import commits whole once the body has ended, or not at all.',
      'A tenant runs at most API_IMPORT_CONCURRENCY_PER_TENANT imports at once (429 with Retry-After beyond); a body that stalls for HTTP_BODY_IDLE_TIMEOUT_MS is answered 408.',
      'CSV: a header row naming columns among email, external_ref, profile_url, first_name, last_name, birth_date, time_zone, status, tags (";"-separated), attributes (a JSON object) and attributes.<name>.',
    ].join(' '),
    body: {
      schema: contactBody.array(),
      example: [
        EXAMPLE_INPUT,
        { email: 'grace@example.com', first_name: 'Grace', last_name: 'Hopper', tags: ['navy'] },
      ],
      csvExample:
        'email,first_name,last_name,birth_date,tags,attributes.plan\r\nada@example.com,Ada,Lovelace,1985-12-10,vip;newsletter,pro\r\n',
      description: 'application/json (an array of contacts) or text/csv (with a header row).',
    },
    idempotent: true,
    success: {
      status: 200,
      description: 'What was imported, and why rows failed.',
      schema: 'ImportResult',
      example: {
        created: 1,
        updated: 0,
        failed: 1,
        errors: [{ row: 2, field: 'email', message: 'must be an email address' }],
        errors_truncated: false,
      },
    },
  })
  async import(
    @TenantKey() principal: TenantPrincipal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const media = requireMediaType(req, ['application/json', 'text/csv']);
    const limit = this.config.api.importBodyLimitBytes;
    checkDeclaredLength(req, limit);
    const seed = `POST /v1/contacts/import\n${media.type}\n`;
    const metered = () =>
      meteredRequest(req, limit, seed, this.config.http.bodyIdleTimeoutMs, IMPORT_READ_AHEAD_BYTES);
    const slot = await this.importSlots.acquire(principal.tenantId);
    try {
      return await this.idempotency.runStreamed(req, res, principal.tenantId, {
        // Until the body has wholly arrived, its rows are staged without a transaction: a slow
        // client holds no pooled connection, only (for a moment per chunk) the one that stages a
        // chunk. The transaction starts once no client can stall it any more.
        read: async () => {
          const body = metered();
          const depth = { maxDepth: this.config.api.jsonMaxDepth };
          const rows = media.type === 'text/csv' ? readCsv(body, depth) : readJsonArray(body, depth);
          const staged = await this.importer.stage(rows, () => body.arrived);
          if (!body.arrived) await finished(body, { readable: false });
          return { fingerprint: body.digest(), staged };
        },
        fingerprintOnly: async () => {
          const body = metered();
          for await (const _chunk of body) {
            // read to the end: only the hash matters
          }
          return body.digest();
        },
        write: async (manager, { staged }) => ({
          status: 200,
          body: importView(await this.importer.merge(manager, principal.tenantId, staged)),
        }),
        release: ({ staged }) => this.importer.discard(staged),
      });
    } finally {
      await slot.release();
    }
  }

  @Get(':id')
  @ApiRoute({
    id: 'contacts.get',
    tag: 'contacts',
    access: 'read',
    summary: 'Get a contact',
    description: 'Archived contacts are still returned (status archived).',
    params: contactIdParams,
    success: { status: 200, description: 'The contact.', schema: 'Contact', example: EXAMPLE_CONTACT },
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('contact')) id: string) {
    return contactView(found(await this.contacts.get(principal.tenantId, id), 'contact', id));
  }

  @Patch(':id')
  @ApiRoute({
    id: 'contacts.update',
    tag: 'contacts',
    access: 'write',
    summary: 'Change a contact',
    description:
      'Changes only the fields given; null clears a field. `attributes` merges key by key (a null value removes that key). A contact keeps an email or an external_ref.',
    params: contactIdParams,
    body: {
      schema: contactPatchBody,
      example: { last_name: 'King', tags: ['vip'], attributes: { plan: 'enterprise', seats: null } },
    },
    success: {
      status: 200,
      description: 'The changed contact.',
      schema: 'Contact',
      example: { ...EXAMPLE_CONTACT, last_name: 'King' },
    },
    problems: ['conflict'],
  })
  async update(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('contact')) id: string,
    @Body(new ZodPipe(contactPatchBody, 'body')) body: z.output<typeof contactPatchBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const updated = await this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      const contact = await this.contacts.patch(manager, principal.tenantId, id, body);
      return { status: 200, body: contactView(found(contact, 'contact', id)) };
    });
    return updated;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiRoute({
    id: 'contacts.archive',
    tag: 'contacts',
    access: 'write',
    summary: 'Archive a contact',
    description:
      'Soft delete: the contact gets status archived, leaves default lists and campaign audiences, and keeps its history. Archiving twice is fine; PATCH status back to active to restore it.',
    params: contactIdParams,
    success: { status: 204, description: 'Archived.' },
  })
  async archive(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('contact')) id: string,
  ): Promise<void> {
    if (!(await this.contacts.archive(principal.tenantId, id))) throw notFound('contact', id);
  }
}
