import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AdminKeyGuard } from './http/admin-key.guard';
import { ProblemFilter } from './http/problem.filter';
import { InternalController } from './system/internal.controller';
import { SystemController } from './system/system.controller';

/** The api's transport: controllers, guards and the error shape. Infrastructure comes from the root. */
@Module({
  controllers: [SystemController, InternalController],
  providers: [AdminKeyGuard, { provide: APP_FILTER, useClass: ProblemFilter }],
})
export class ApiModule {}
