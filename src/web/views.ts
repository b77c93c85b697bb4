import path from 'node:path';
import ejs from 'ejs';

type EngineCallback = (error: unknown, rendered?: string) => void;

/**
 * An Express view engine that renders the page, then wraps it in `layouts/main.ejs` unless the
 * page sets `layout: false` or names another layout (`layout: 'minimal'`). Pages receive view-models only; EJS escapes `<%= %>` output.
 */
export function layoutEngine(viewsDir: string) {
  return (file: string, options: object, callback: EngineCallback): void => {
    const model = options as Record<string, unknown>;
    ejs
      .renderFile(file, model, { async: false, root: viewsDir, views: [viewsDir] })
      .then((body) => {
        if (model.layout === false) return body;
        const name = typeof model.layout === 'string' ? model.layout : 'main';
        if (!/^[a-z-]+$/.test(name)) throw new Error(`bad layout name ${name}`);
        const layout = path.join(viewsDir, 'layouts', `${name}.ejs`);
        return ejs.renderFile(layout, { ...model, body }, { root: viewsDir, views: [viewsDir] });
      })
      .then(
        (html) => {
          callback(null, html);
        },
        (error: unknown) => {
          callback(error);
        },
      );
  };
}
