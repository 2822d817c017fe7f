/**
 * Herald's HTTP API as a typed client generated from its OpenAPI document (src/generated, by
 * `npm run client:generate`; never edit it by hand), plus the problem-document unwrapping every
 * caller needs. The console, the CLI and the dev script all talk to the api through this.
 */
export * from './generated';
export { client } from './generated/client.gen';
export { createClient, createConfig, type Client, type Config } from './generated/client';
export { ApiProblem, unwrap, type CallResult, type ProblemBody } from './problem';
export { keyClient } from './key-client';
