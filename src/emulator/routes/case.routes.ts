import express, { type Router } from 'express';
import type { EmulatorContext } from '../context.ts';

/**
 * A CASE 1.0 provider's package endpoint (1EdTech CASE Service `getCFPackage`), enough for the tool's
 * "import from a CASE server": the package as JSON, 401 without the right bearer token when the
 * package needs one, and the spec's `imsx_StatusInfo` body for an unknown id.
 */
export function caseRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  router.get('/ims/case/v1p0/CFPackages/:id', (req, res) => {
    const found = ctx.state.casePackages.get(req.params.id);
    if (found === undefined) {
      res.status(404).json({
        imsx_codeMajor: 'failure',
        imsx_severity: 'error',
        imsx_description: 'The package was not found.',
        imsx_CodeMinor: { imsx_codeMinorField: [{ imsx_codeMinorFieldValue: 'unknownobject' }] },
      });
      return;
    }
    if (
      found.bearerToken !== undefined &&
      req.headers.authorization !== `Bearer ${found.bearerToken}`
    ) {
      res.status(401).set('WWW-Authenticate', 'Bearer').json({
        imsx_codeMajor: 'failure',
        imsx_severity: 'error',
        imsx_description: 'A valid bearer token is required.',
      });
      return;
    }
    res.type('application/json').send(found.body);
  });
  return router;
}
