export { ListenerGuard } from './listener.guard';
export {
  DeclareAccess,
  listenersOf,
  ROUTE_ACCESS,
  ROUTE_ACCESS_VALUES,
  routeAccessOf,
  type RouteAccess,
} from './route-access';
export { RouteDeclarationCheck, type DeclaredRoute } from './route-declaration.check';
export { ServerPorts } from './server-ports';
