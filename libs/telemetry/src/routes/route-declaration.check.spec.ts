import { Controller, Get, Post, type INestApplication } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { DeclareAccess } from './route-access';
import { RouteDeclarationCheck } from './route-declaration.check';

@Controller('v1/things')
class DeclaredController {
  @Get(':id')
  @DeclareAccess('read')
  get(): string {
    return 'ok';
  }

  @Post()
  @DeclareAccess('write')
  create(): string {
    return 'ok';
  }

  /** Not a route: no access needed. */
  helper(): string {
    return 'helper';
  }
}

@Controller('v1/loose')
class UndeclaredController {
  @Get()
  @DeclareAccess('read')
  list(): string {
    return 'ok';
  }

  @Post('purge')
  purge(): string {
    return 'purged';
  }
}

async function boot(controllers: (new () => object)[]): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    controllers,
    providers: [RouteDeclarationCheck],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('RouteDeclarationCheck', () => {
  it('refuses to boot an app with a route that declares no access, naming it', async () => {
    await expect(boot([DeclaredController, UndeclaredController])).rejects.toThrow(
      /without an access declaration.*UndeclaredController\.purge/,
    );
  });

  it('boots when every route declares its access, and lists each with its method and path', async () => {
    const app = await boot([DeclaredController]);
    try {
      expect(app.get(RouteDeclarationCheck).routes()).toEqual([
        {
          controller: 'DeclaredController',
          handler: 'get',
          method: 'GET',
          path: '/v1/things/:id',
          access: 'read',
        },
        {
          controller: 'DeclaredController',
          handler: 'create',
          method: 'POST',
          path: '/v1/things',
          access: 'write',
        },
      ]);
    } finally {
      await app.close();
    }
  });
});
