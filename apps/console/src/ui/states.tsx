import { ApiProblem } from '@herald/api-client';
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';

/** An API problem (its detail and field errors) or any other failure, announced to screen readers. */
export function ProblemView({ error, title = 'That did not work' }: { error: unknown; title?: string }) {
  const problem = error instanceof ApiProblem ? error : undefined;
  const message = problem ? problem.detail : error instanceof Error ? error.message : String(error);
  const notFound = problem?.status === 404;
  return (
    <div className="problem" role="alert">
      <strong>{notFound ? 'Not found' : title}</strong>
      <p>{message}</p>
      {problem?.problem?.errors && problem.problem.errors.length > 0 && (
        <ul>
          {problem.problem.errors.map((e) => (
            <li key={`${e.field}:${e.message}`}>
              <code>{e.field || 'body'}</code> {e.message}
            </li>
          ))}
        </ul>
      )}
      {problem?.problem?.request_id && <p className="muted small">Request {problem.problem.request_id}</p>}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** Loading, error and (when `isEmpty` says so) empty states around a query's data. */
export function QueryView<T>({
  query,
  label,
  isEmpty,
  empty,
  children,
}: {
  query: UseQueryResult<T>;
  label?: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Loading label={label ? `Loading ${label}…` : undefined} />;
  if (query.isError)
    return <ProblemView error={query.error} title={label ? `Could not load ${label}` : undefined} />;
  if (isEmpty?.(query.data)) return <Empty>{empty ?? 'Nothing here yet.'}</Empty>;
  return <>{children(query.data)}</>;
}
