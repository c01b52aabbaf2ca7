/** Who is making a request, as the pages surface sees it. Filled in by the accounts module's hook. */
export interface RequestAuth {
  kind: 'customer' | 'staff';
  subjectId: string;
  name: string;
  email: string;
  role: 'owner' | 'admin' | 'support' | 'sales' | null;
  sessionIdHash: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: RequestAuth | null;
    apiKey: { id: string; name: string } | null;
    /** A CSRF token for forms on this page: bound to the session when signed in, else a signed anonymous token. */
    csrfToken(): string;
    /** Set on admin pages for staff: whether the signed-in role may open a link (the layout hides the others). */
    adminNavAllows?: (href: string) => boolean;
  }
  interface FastifyContextConfig {
    /**
     * 'anon': a form also used before sign-in (basket, checkout, contact), which takes the session's token
     * once signed in; 'signin': a form that never acts for the session it arrives with (signing in,
     * registering, resetting a password, a link from an email), which takes an anonymous token either way;
     * 'skip': no CSRF check (webhooks, one-click unsubscribe).
     */
    csrf?: 'anon' | 'signin' | 'skip';
  }
}
