// The mail catcher: what the Auth server would send is kept here instead, newest last, and listed
// at GET /auth/v1/_mail (the local stack's stand-in for the CLI's mail page). The texts follow
// GoTrue's default templates, with the same links ({{ .ConfirmationURL }}) and codes ({{ .Token }}).

export type MailKind = "signup" | "magiclink" | "recovery" | "email_change";

export interface Mail {
  id: string;
  at: string;
  to: string;
  kind: MailKind;
  subject: string;
  text: string;
  html: string;
  /** The link in the mail, and the one-time code it also shows. */
  link: string;
  otp: string;
}

const KEEP = 500;
const kept: Mail[] = [];

const TEMPLATES: Record<MailKind, { subject: string; heading: string; action: string }> = {
  signup: {
    subject: "Confirm Your Signup",
    heading: "Confirm your signup",
    action: "Follow this link to confirm your user:",
  },
  magiclink: {
    subject: "Your Magic Link",
    heading: "Magic Link",
    action: "Follow this link to login:",
  },
  recovery: {
    subject: "Reset Your Password",
    heading: "Reset Password",
    action: "Follow this link to reset the password for your user:",
  },
  email_change: {
    subject: "Confirm Email Change",
    heading: "Confirm Change of Email",
    action: "Follow this link to confirm the update of your email:",
  },
};

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function sendMail(to: string, kind: MailKind, link: string, otp: string): Mail {
  const t = TEMPLATES[kind];
  const mail: Mail = {
    id: crypto.randomUUID(),
    at: new Date().toISOString(),
    to,
    kind,
    subject: t.subject,
    text: `${t.heading}\n\n${t.action}\n${link}\n\nAlternatively, enter the code: ${otp}\n`,
    html: `<h2>${t.heading}</h2>\n<p>${t.action}</p>\n<p><a href="${
      escapeHtml(link)
    }">${t.heading}</a></p>\n<p>Alternatively, enter the code: ${otp}</p>\n`,
    link,
    otp,
  };
  kept.push(mail);
  if (kept.length > KEEP) kept.shift();
  return mail;
}

/** The kept mails, optionally only those to one address. */
export const mailbox = (to?: string | null) =>
  to ? kept.filter((m) => m.to === to.toLowerCase()) : [...kept];
