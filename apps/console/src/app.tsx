import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, type ReactNode } from 'react';
import { currentSession, signOut, type ConsoleSession } from './api/session';
import { Link, match, useLocation } from './router';
import { SignInPage } from './pages/sign-in';
import { Loading, ProblemView } from './ui/states';
import { ZoneContext } from './ui/time';

// One chunk per page: the sign-in screen loads only the shell.
const OverviewPage = lazy(() => import('./pages/overview').then((m) => ({ default: m.OverviewPage })));
const CampaignsPage = lazy(() => import('./pages/campaigns').then((m) => ({ default: m.CampaignsPage })));
const CampaignPage = lazy(() => import('./pages/campaign').then((m) => ({ default: m.CampaignPage })));
const RunPage = lazy(() => import('./pages/run').then((m) => ({ default: m.RunPage })));
const ContactsPage = lazy(() => import('./pages/contacts').then((m) => ({ default: m.ContactsPage })));
const ContactPage = lazy(() => import('./pages/contact').then((m) => ({ default: m.ContactPage })));
const SendersPage = lazy(() => import('./pages/senders').then((m) => ({ default: m.SendersPage })));
const LeadsPage = lazy(() => import('./pages/leads').then((m) => ({ default: m.LeadsPage })));
const SourcingRunPage = lazy(() =>
  import('./pages/sourcing-run').then((m) => ({ default: m.SourcingRunPage })),
);
const AnalyticsPage = lazy(() => import('./pages/analytics').then((m) => ({ default: m.AnalyticsPage })));
const PlatformPage = lazy(() => import('./pages/platform').then((m) => ({ default: m.PlatformPage })));

export function App() {
  const session = useQuery({ queryKey: ['session'], queryFn: currentSession, staleTime: Infinity });
  if (session.isPending) return <Loading label="Checking your session…" />;
  if (session.isError)
    return (
      <main id="main" className="page narrow">
        <ProblemView error={session.error} title="The console cannot reach Herald" />
      </main>
    );
  if (!session.data) return <SignInPage />;
  return <Shell session={session.data} />;
}

function Shell({ session }: { session: ConsoleSession }) {
  const { path } = useLocation();
  const platform = session.tenant_id === null;
  const zone = session.time_zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const client = useQueryClient();
  const out = useMutation({
    mutationFn: signOut,
    onSuccess: () => {
      client.clear();
      client.setQueryData(['session'], null);
    },
  });
  const nav: { to: string; label: string; tenant: boolean }[] = [
    { to: '/', label: 'Overview', tenant: true },
    { to: '/campaigns', label: 'Campaigns', tenant: true },
    { to: '/contacts', label: 'Contacts', tenant: true },
    { to: '/senders', label: 'Sender accounts', tenant: true },
    { to: '/leads', label: 'Leads', tenant: true },
    { to: '/analytics', label: 'Analytics', tenant: true },
    { to: '/platform', label: 'Platform', tenant: false },
  ];
  const visible = nav.filter((n) => n.tenant !== platform);
  return (
    <ZoneContext.Provider value={zone}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Herald</span>
        <nav aria-label="Console">
          <ul>
            {visible.map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={section(path) === n.to ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span className="muted small">
            {platform ? 'Platform admin' : `Tenant · ${session.scopes.join(', ')}`} · {zone}
          </span>
          <button type="button" className="secondary" onClick={() => out.mutate()} disabled={out.isPending}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="page">
        {out.isError && <ProblemView error={out.error} title="Could not sign out" />}
        <Suspense fallback={<Loading />}>{route(path, platform)}</Suspense>
      </main>
    </ZoneContext.Provider>
  );
}

function section(path: string): string {
  return path === '/' ? '/' : `/${path.split('/')[1] ?? ''}`;
}

function route(path: string, platform: boolean): ReactNode {
  if (platform) return path === '/' || path === '/platform' ? <PlatformPage /> : <NotFound />;
  let params: Record<string, string> | null;
  if (path === '/') return <OverviewPage />;
  if (path === '/campaigns') return <CampaignsPage />;
  if (path === '/campaigns/new') return <CampaignPage id={null} />;
  if ((params = match('/campaigns/:id', path))) return <CampaignPage id={params.id ?? ''} key={params.id} />;
  if ((params = match('/runs/:id', path))) return <RunPage id={params.id ?? ''} key={params.id} />;
  if (path === '/contacts') return <ContactsPage />;
  if ((params = match('/contacts/:id', path))) return <ContactPage id={params.id ?? ''} key={params.id} />;
  if (path === '/senders') return <SendersPage />;
  if (path === '/leads') return <LeadsPage />;
  if ((params = match('/leads/runs/:id', path)))
    return <SourcingRunPage id={params.id ?? ''} key={params.id} />;
  if (path === '/analytics') return <AnalyticsPage />;
  if (path === '/platform') return <PlatformPage />;
  return <NotFound />;
}

function NotFound() {
  return (
    <>
      <h1 tabIndex={-1}>Not found</h1>
      <p>
        No console page here. <Link to="/">Back to the overview</Link>.
      </p>
    </>
  );
}
