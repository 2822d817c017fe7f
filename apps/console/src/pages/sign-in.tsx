import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { signIn } from '../api/session';
import { navigate, usePageTitle } from '../router';
import { ProblemView } from '../ui/states';

/** Paste a tenant key or the platform admin key once; the api answers with the session cookie. */
export function SignInPage() {
  usePageTitle('Sign in');
  const [key, setKey] = useState('');
  const client = useQueryClient();
  const mutation = useMutation({
    mutationFn: signIn,
    onSuccess: (session) => {
      setKey('');
      client.setQueryData(['session'], session);
      navigate(session.tenant_id === null ? '/platform' : '/', { replace: true });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate(key.trim());
  };
  return (
    <main id="main" className="page narrow">
      <h1 tabIndex={-1}>Sign in to Herald</h1>
      <p>
        Paste a tenant API key, or the platform admin key for the platform view. The key is exchanged for a
        session cookie and is not stored in the browser.
      </p>
      <form onSubmit={submit} className="stack">
        <label htmlFor="key">API key</label>
        <input
          id="key"
          name="key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          required
          value={key}
          onChange={(e) => setKey(e.target.value)}
        />
        <button type="submit" disabled={mutation.isPending || key.trim() === ''}>
          {mutation.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {mutation.isError && <ProblemView error={mutation.error} title="Sign-in failed" />}
    </main>
  );
}
