// Signing in through the organisation's identity provider: OpenID Connect's authorization-code
// flow with PKCE, done by the page itself (a public client: the browser holds no secret).
//
// 1. The sign-in button reads the provider's discovery document and sends the browser to its
//    authorize endpoint with a fresh `state`, `nonce` and PKCE challenge (S256); the verifier
//    waits in this tab's sessionStorage.
// 2. The provider sends the browser back to the console with a code and the state — in the
//    fragment when it can (a fragment never reaches a server, so no access log ever holds the
//    code), else in the query. Both are taken out of the address bar and the history at once.
// 3. The page checks the state, exchanges the code at the token endpoint with the verifier, and
//    checks the ID token's nonce, issuer and audience (it came straight from the provider over
//    TLS, so its signature is not checked here: OpenID Connect Core 3.1.3.7). The access token is
//    what the services verify; it is kept in sessionStorage only, never in a URL or a log.
// 4. Who the token says the staff member is (roles mapped to Anju's, areas) is asked of the query
//    service's GET /me, so the page never maps the provider's claims itself.
import { apiUrl, session } from "./api.js";

const PENDING = "anju.oidc.pending";

export class SignInFailed extends Error {
  constructor(reason) { super(reason); this.reason = reason; }
}

const discovered = new Map();
async function discover(issuer) {
  if (!discovered.has(issuer)) {
    discovered.set(issuer, (async () => {
      const response = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
      if (!response.ok) throw new SignInFailed("provider");
      const meta = await response.json();
      if (meta.issuer !== issuer) throw new SignInFailed("provider");
      return meta;
    })().catch((error) => { discovered.delete(issuer); throw error; }));
  }
  return discovered.get(issuer);
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
const random = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));
async function challengeOf(verifier) {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}
const redirectUri = () => `${location.origin}/`;

// The claims of a JWT, unverified (for the ID token's nonce, issuer and audience only).
function claimsOf(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part + "===".slice((part.length + 3) % 4)), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

// Step 1: off to the provider. `back` is the screen to open once signed in.
export async function startSignIn(oidc, back) {
  const meta = await discover(oidc.issuer);
  const state = random(24);
  const nonce = random(24);
  const verifier = random(48);
  sessionStorage.setItem(PENDING, JSON.stringify({ state, nonce, verifier, back }));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: oidc.client_id,
    redirect_uri: redirectUri(),
    scope: oidc.scopes,
    state,
    nonce,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: "S256",
  });
  if ((meta.response_modes_supported || []).includes("fragment")) params.set("response_mode", "fragment");
  location.assign(`${meta.authorization_endpoint}?${params}`);
}

// Steps 2-4, when the browser comes back from the provider: the session, or null when this page
// load is not a return from the provider. Throws SignInFailed saying what went wrong.
export async function finishSignIn(oidc) {
  const query = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.startsWith("#/") ? "" : location.hash.slice(1));
  const answer = query.has("state") ? query : fragment.has("state") ? fragment : null;
  if (!answer) return null;
  history.replaceState(null, "", location.pathname);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  if (!pending || answer.get("state") !== pending.state) throw new SignInFailed("state");
  if (answer.has("error") || !answer.get("code")) throw new SignInFailed("refused");
  const meta = await discover(oidc.issuer);
  let tokens;
  try {
    const response = await fetch(meta.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: answer.get("code"),
        redirect_uri: redirectUri(),
        client_id: oidc.client_id,
        code_verifier: pending.verifier,
      }),
    });
    if (!response.ok) throw new SignInFailed("exchange");
    tokens = await response.json();
  } catch {
    throw new SignInFailed("exchange");
  }
  const id = claimsOf(tokens.id_token || "");
  const audience = id ? [].concat(id.aud) : [];
  if (!id || id.nonce !== pending.nonce || id.iss !== oidc.issuer || !audience.includes(oidc.client_id)) {
    throw new SignInFailed("nonce");
  }
  if (!tokens.access_token) throw new SignInFailed("exchange");
  let me;
  try {
    const response = await fetch(apiUrl("query", "/me"), {
      headers: { Accept: "application/json", Authorization: `Bearer ${tokens.access_token}` },
    });
    if (response.status === 401) throw new SignInFailed("no_role");
    if (!response.ok) throw new SignInFailed("unavailable");
    me = await response.json();
  } catch (error) {
    throw error instanceof SignInFailed ? error : new SignInFailed("unavailable");
  }
  const lifetime = Number(tokens.expires_in) > 0 ? Number(tokens.expires_in) : 300;
  return {
    session: {
      token: tokens.access_token,
      expires_at: new Date(Date.now() + lifetime * 1000).toISOString(),
      roles: me.roles,
      areas: me.areas,
      name: id.name || id.preferred_username || me.sub,
    },
    back: pending.back,
  };
}

// Signing out: the token leaves this tab, and the provider's session ends too when it offers
// RP-initiated logout (named by the client id: no token is put in the URL).
export async function signOut(oidc) {
  session.clear();
  try {
    const meta = await discover(oidc.issuer);
    if (meta.end_session_endpoint) {
      const params = new URLSearchParams({ client_id: oidc.client_id, post_logout_redirect_uri: redirectUri() });
      location.assign(`${meta.end_session_endpoint}?${params}`);
      return;
    }
  } catch { /* the provider does not answer: signed out of the console all the same */ }
  location.assign(redirectUri());
}
