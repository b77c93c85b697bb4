import { Router } from 'express';

export function homeRoutes(deps: { publicUrl: string }): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.render('home', {
      title: 'Mastery Pathways',
      publicUrl: deps.publicUrl,
    });
  });
  return router;
}
