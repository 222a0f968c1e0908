import { useState } from "react";
import { type AppConfig, authClient } from "./session.ts";

/** Email and password through supabase-js; or an access token from `npm run token`. */
export function SignIn({ config, onToken }: { config: AppConfig; onToken: (token: string) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const [message, setMessage] = useState("");

  const signIn = async (mode: "in" | "up") => {
    setMessage("");
    const auth = authClient(config).auth;
    const { error, data } = mode === "in"
      ? await auth.signInWithPassword({ email, password })
      : await auth.signUp({ email, password });
    if (error) setMessage(error.message);
    else if (mode === "up" && !data.session) setMessage("Check your mail to confirm your address, then sign in.");
  };

  return (
    <div className="signin">
      <h1>Sign in to Aide</h1>
      <form onSubmit={(e) => { e.preventDefault(); signIn("in"); }}>
        <input type="email" placeholder="Email" value={email} onChange={(e) => setEmail(e.target.value)} data-testid="email" />
        <input type="password" placeholder="Password" value={password} onChange={(e) => setPassword(e.target.value)} data-testid="password" />
        <div className="row">
          <button type="submit" data-testid="sign-in">Sign in</button>
          <button type="button" className="secondary" onClick={() => signIn("up")} data-testid="sign-up">Sign up</button>
        </div>
      </form>
      {message && <p className="notice" data-testid="auth-message">{message}</p>}
      <details>
        <summary>Use an access token</summary>
        <form onSubmit={(e) => { e.preventDefault(); if (token.trim()) onToken(token.trim()); }}>
          <textarea placeholder="npm run -s token -- you@example.com" value={token} onChange={(e) => setToken(e.target.value)} data-testid="token" />
          <button type="submit" data-testid="use-token">Continue</button>
        </form>
      </details>
    </div>
  );
}
