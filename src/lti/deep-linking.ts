import type { JWTPayload } from 'jose';
import { LTI_CLAIM, LTI_VERSION, MESSAGE_TYPE } from './claims.ts';
import type { DeepLinkingSettings } from './claims.ts';
import { LtiError } from './errors.ts';
import type { ToolSigner } from './tool-keys.ts';

/** Deep Linking 2.0 §3.2 `ltiResourceLink` content item. Spec names, because this goes on the wire. */
export interface LtiResourceLinkItem {
  readonly type: 'ltiResourceLink';
  readonly url?: string;
  readonly title?: string;
  readonly text?: string;
  readonly custom?: Readonly<Record<string, string>>;
  readonly lineItem?: {
    readonly scoreMaximum: number;
    readonly label?: string;
    readonly resourceId?: string;
    readonly tag?: string;
    readonly gradesReleased?: boolean;
  };
  readonly iframe?: { readonly width?: number; readonly height?: number };
  readonly window?: {
    readonly targetName?: string;
    readonly width?: number;
    readonly height?: number;
  };
}

export interface LinkItem {
  readonly type: 'link';
  readonly url: string;
  readonly title?: string;
  readonly text?: string;
}

export type ContentItem = LtiResourceLinkItem | LinkItem;

export interface ResourceLinkItemInput {
  readonly url?: string | undefined;
  readonly title?: string | undefined;
  readonly text?: string | undefined;
  /**
   * Custom parameters the platform sends back on launches of this link. Schoology does not send
   * app-level custom parameters on deep-linked links, so whatever the launch needs goes here.
   */
  readonly custom?: Readonly<Record<string, string>> | undefined;
  readonly lineItem?:
    | {
        readonly scoreMaximum: number;
        readonly label?: string | undefined;
        readonly resourceId?: string | undefined;
        readonly tag?: string | undefined;
      }
    | undefined;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

export function ltiResourceLinkItem(input: ResourceLinkItemInput): LtiResourceLinkItem {
  return withoutUndefined({
    type: 'ltiResourceLink' as const,
    url: input.url,
    title: input.title,
    text: input.text,
    custom: input.custom,
    lineItem: input.lineItem === undefined ? undefined : withoutUndefined({ ...input.lineItem }),
  });
}

export function linkItem(input: { url: string; title?: string; text?: string }): LinkItem {
  return withoutUndefined({ type: 'link' as const, ...input });
}

export interface DeepLinkingResponseInput {
  /** From the verified DL launch. */
  readonly settings: DeepLinkingSettings;
  /** The platform issuer: the response's audience. */
  readonly platformIssuer: string;
  /** Our client id: the response's issuer. */
  readonly clientId: string;
  readonly deploymentId: string;
  readonly contentItems: readonly ContentItem[];
  readonly msg?: string;
  readonly log?: string;
  readonly errorMsg?: string;
  readonly errorLog?: string;
}

export interface DeepLinkingDependencies {
  readonly signer: ToolSigner;
  readonly now: () => Date;
  /** A fresh nonce for the response (DL 2.0 §4.1: nonce is required in the response JWT). */
  readonly randomToken: () => string;
  readonly lifetimeSeconds?: number;
}

/** Refuses items the platform said it would not accept, rather than letting the LMS drop them silently. */
export function checkAcceptable(
  settings: DeepLinkingSettings,
  items: readonly ContentItem[],
): void {
  if (!settings.acceptMultiple && items.length > 1) {
    throw new LtiError('content_item_not_accepted', { detail: 'platform accepts one item only' });
  }
  for (const item of items) {
    if (!settings.acceptTypes.includes(item.type)) {
      throw new LtiError('content_item_not_accepted', { detail: `type ${item.type}` });
    }
    // Only an explicit `false` refuses a line item: absent means unknown (DL 2.0 §4.4.1), and
    // Moodle 4.3 and Canvas leave it out yet create the column (LMS-NOTES).
    if (
      item.type === 'ltiResourceLink' &&
      item.lineItem !== undefined &&
      settings.acceptLineItem === false
    ) {
      throw new LtiError('content_item_not_accepted', {
        detail: 'platform does not accept line items',
      });
    }
  }
}

/** The signed `LtiDeepLinkingResponse` JWT (Deep Linking 2.0 §4). */
export async function buildDeepLinkingResponse(
  input: DeepLinkingResponseInput,
  deps: DeepLinkingDependencies,
): Promise<string> {
  checkAcceptable(input.settings, input.contentItems);
  const issuedAt = Math.floor(deps.now().getTime() / 1000);
  const payload: JWTPayload = {
    iss: input.clientId,
    aud: input.platformIssuer,
    iat: issuedAt,
    exp: issuedAt + (deps.lifetimeSeconds ?? 300),
    nonce: deps.randomToken(),
    [LTI_CLAIM.deploymentId]: input.deploymentId,
    [LTI_CLAIM.messageType]: MESSAGE_TYPE.deepLinkingResponse,
    [LTI_CLAIM.version]: LTI_VERSION,
    [LTI_CLAIM.dlContentItems]: input.contentItems,
  };
  // `data` must be echoed exactly when the request carried it (DL 2.0 §4.4.1).
  if (input.settings.data !== undefined) payload[LTI_CLAIM.dlData] = input.settings.data;
  if (input.msg !== undefined) payload[LTI_CLAIM.dlMsg] = input.msg;
  if (input.log !== undefined) payload[LTI_CLAIM.dlLog] = input.log;
  if (input.errorMsg !== undefined) payload[LTI_CLAIM.dlErrorMsg] = input.errorMsg;
  if (input.errorLog !== undefined) payload[LTI_CLAIM.dlErrorLog] = input.errorLog;
  return deps.signer(payload);
}

export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * The page that POSTs the response JWT to the platform's return URL. The script carries the CSP nonce
 * when one is given; without JavaScript the button still works.
 */
export function autoSubmitFormHtml(
  returnUrl: string,
  jwt: string,
  options: { cspNonce?: string } = {},
): string {
  const protocol = new URL(returnUrl).protocol;
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new LtiError('invalid_claim', { detail: `deep_link_return_url scheme ${protocol}` });
  }
  const nonceAttribute =
    options.cspNonce === undefined ? '' : ` nonce="${escapeHtml(options.cspNonce)}"`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Returning to your course</title></head>
<body>
<form id="lti-deep-linking-response" method="post" action="${escapeHtml(returnUrl)}">
<input type="hidden" name="JWT" value="${escapeHtml(jwt)}">
<noscript><p>Select Continue to return to your course.</p></noscript>
<button type="submit">Continue</button>
</form>
<script${nonceAttribute}>document.getElementById('lti-deep-linking-response').submit();</script>
</body>
</html>
`;
}
