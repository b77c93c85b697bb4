import { LTI_SCOPE, MESSAGE_TYPE } from './claims.ts';

/**
 * The JSON a Canvas admin pastes into (or points "Enter URL" at) when creating an LTI Developer Key
 * (LMS-NOTES: Canvas). Canvas-specific; other platforms use Dynamic Registration or manual forms.
 */
export interface CanvasConfigOptions {
  readonly baseUrl: string;
  readonly title: string;
  readonly description: string;
  readonly paths: {
    readonly login: string;
    readonly launch: string;
    readonly deepLinking: string;
    readonly jwks: string;
  };
  readonly iconUrl?: string;
  /** `public` sends name and email, which teachers need to recognise students. */
  readonly privacyLevel?: 'public' | 'name_only' | 'email_only' | 'anonymous';
  readonly customFields?: Readonly<Record<string, string>>;
}

export const CANVAS_PLATFORM = 'canvas.instructure.com';

export const CANVAS_TOOL_SCOPES: readonly string[] = [
  LTI_SCOPE.lineItem,
  LTI_SCOPE.lineItemReadonly,
  LTI_SCOPE.resultReadonly,
  LTI_SCOPE.score,
  LTI_SCOPE.membershipReadonly,
];

export function canvasDeveloperKeyConfig(options: CanvasConfigOptions): Record<string, unknown> {
  const base = new URL(options.baseUrl);
  const at = (path: string) => new URL(path, base).toString();
  const icon = options.iconUrl === undefined ? {} : { icon_url: options.iconUrl };
  return {
    title: options.title,
    description: options.description,
    oidc_initiation_url: at(options.paths.login),
    target_link_uri: at(options.paths.launch),
    public_jwk_url: at(options.paths.jwks),
    scopes: [...CANVAS_TOOL_SCOPES],
    extensions: [
      {
        platform: CANVAS_PLATFORM,
        domain: base.host,
        tool_id: 'mastery-pathways',
        privacy_level: options.privacyLevel ?? 'public',
        settings: {
          text: options.title,
          ...icon,
          placements: [
            {
              placement: 'course_navigation',
              message_type: MESSAGE_TYPE.resourceLink,
              target_link_uri: at(options.paths.launch),
              text: options.title,
              default: 'enabled',
              // Students open it too (their own mastery view); the launch decides by role what they see.
              visibility: 'members',
              ...icon,
            },
            {
              placement: 'assignment_selection',
              message_type: MESSAGE_TYPE.deepLinking,
              target_link_uri: at(options.paths.deepLinking),
              text: options.title,
              ...icon,
            },
            {
              placement: 'link_selection',
              message_type: MESSAGE_TYPE.deepLinking,
              target_link_uri: at(options.paths.deepLinking),
              text: options.title,
              ...icon,
            },
          ],
        },
      },
    ],
    custom_fields: {
      canvas_course_id: '$Canvas.course.id',
      // No `$ResourceLink.id.history`: Canvas expands it only for asset-processor tools. Copied
      // courses are recognised by their columns' resourceId instead (src/alignment/discovery.ts).
      ...options.customFields,
    },
  };
}
