import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../../logger.ts';
import { LtiError } from '../../lti/errors.ts';
import { AppError } from '../../errors.ts';
import { fromLtiError, HttpError, notFound } from '../errors.ts';
import { requestContext } from '../request-context.ts';

/** Page titles for errors that are an expected end, not a fault. */
const TITLES: Partial<Record<string, string>> = {
  session_ended: 'Your session ended',
  deleted_on_request: 'Removed at your district’s request',
};

export const unmatchedRoute: RequestHandler = (_req, _res, next) => {
  next(notFound());
};

/** body-parser and friends signal client errors with `status` and `type`. */
function fromFrameworkError(error: unknown): HttpError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, type } = error as { status?: unknown; type?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (status === 413) {
    return new HttpError(
      413,
      'payload_too_large',
      'What you sent is larger than this form accepts.',
      {
        cause: error,
      },
    );
  }
  return new HttpError(
    status,
    'bad_request',
    typeof type === 'string' && type === 'entity.parse.failed'
      ? 'The request body could not be read.'
      : 'The request could not be understood.',
    { cause: error },
  );
}

/**
 * The one error boundary. People get a page (or JSON for API clients) with a stable code and the
 * request id; operators get the details in the log. Server errors never show their message.
 */
export function errorBoundary(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const httpError: AppError =
      error instanceof AppError
        ? error
        : error instanceof LtiError
          ? fromLtiError(error)
          : (fromFrameworkError(error) ??
            new HttpError(500, 'internal_error', 'Something went wrong on our side.', {
              cause: error,
            }));
    const requestId = requestContext(req).requestId;
    if (httpError.status >= 500) {
      logger.error({ err: error, requestId, code: httpError.code }, 'request failed');
    } else {
      logger.info(
        { requestId, code: httpError.code, status: httpError.status },
        'request rejected',
      );
    }
    const message = httpError.expose ? httpError.message : 'Something went wrong on our side.';
    res.status(httpError.status);
    if (req.accepts(['html', 'json']) === 'json') {
      res.json({ error: httpError.code, message, requestId });
      return;
    }
    const model = {
      title:
        TITLES[httpError.code] ??
        (httpError.status === 404 ? 'Page not found' : 'Something went wrong'),
      status: httpError.status,
      code: httpError.code,
      message,
      requestId,
    };
    res.render('error', model, (renderError: Error | null, html?: string) => {
      if (renderError) {
        // The error page itself failed (a broken view, a full disk): still answer, in plain text.
        logger.error({ err: renderError, requestId }, 'error page could not be rendered');
        res
          .type('text/plain')
          .send(`${message}\nError code: ${httpError.code}\nRequest id: ${requestId}\n`);
        return;
      }
      res.send(html);
    });
  };
}
