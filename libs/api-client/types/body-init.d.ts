// The generated fetch client names the DOM's BodyInit; Node's typings (the server-side
// programs' only lib) have fetch's RequestInit but not that alias. The console's program has
// the DOM lib and never includes this file.
type BodyInit = NonNullable<RequestInit['body']>;
