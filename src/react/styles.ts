/**
 * The console's stylesheet: plain CSS scoped under `.opskit`, themed with
 * CSS custom properties. Override any `--opskit-*` variable on `.opskit` (or
 * an ancestor), or pass `unstyled` and bring your own CSS for the
 * `opskit-*` class names.
 */
export const opsConsoleCss = `
.opskit {
  --opskit-font: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  --opskit-mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  --opskit-bg: #f7f8fa;
  --opskit-surface: #ffffff;
  --opskit-fg: #1c2430;
  --opskit-muted: #5b6676;
  --opskit-border: #d9dee6;
  --opskit-accent: #2f5bea;
  --opskit-accent-fg: #ffffff;
  --opskit-danger: #c23030;
  --opskit-danger-bg: #fdecec;
  --opskit-ok: #1f7a4d;
  --opskit-ok-bg: #e6f5ed;
  --opskit-warn-bg: #fff6dd;
  --opskit-added: #e6f5ed;
  --opskit-removed: #fdecec;
  --opskit-radius: 8px;
  font-family: var(--opskit-font);
  font-size: 14px;
  line-height: 1.45;
  color: var(--opskit-fg);
  background: var(--opskit-bg);
  padding: 16px;
  box-sizing: border-box;
}
.opskit *, .opskit *::before, .opskit *::after { box-sizing: inherit; }
.opskit h1 { font-size: 20px; margin: 0; }
.opskit h2 { font-size: 16px; margin: 0 0 12px; }
.opskit h3 { font-size: 14px; margin: 16px 0 8px; }
.opskit-header { display: flex; align-items: center; justify-content: space-between; gap: 12px; margin-bottom: 12px; }
.opskit-who { color: var(--opskit-muted); }
.opskit-tabs { display: flex; gap: 4px; border-bottom: 1px solid var(--opskit-border); margin-bottom: 16px; flex-wrap: wrap; }
.opskit-tab { border: 1px solid transparent; border-bottom: none; background: none; padding: 8px 14px; border-radius: var(--opskit-radius) var(--opskit-radius) 0 0; cursor: pointer; color: var(--opskit-muted); font: inherit; }
.opskit-tab[aria-selected="true"] { background: var(--opskit-surface); border-color: var(--opskit-border); color: var(--opskit-fg); font-weight: 600; margin-bottom: -1px; }
.opskit-panel { background: var(--opskit-surface); border: 1px solid var(--opskit-border); border-radius: var(--opskit-radius); padding: 16px; margin-bottom: 16px; }
.opskit-filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; margin-bottom: 12px; }
.opskit-field { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--opskit-muted); }
.opskit input, .opskit select, .opskit textarea { font: inherit; color: var(--opskit-fg); background: var(--opskit-surface); border: 1px solid var(--opskit-border); border-radius: 6px; padding: 6px 8px; min-width: 0; }
.opskit textarea { width: 100%; min-height: 56px; resize: vertical; }
.opskit button { font: inherit; }
.opskit-btn { border: 1px solid var(--opskit-border); background: var(--opskit-surface); color: var(--opskit-fg); border-radius: 6px; padding: 6px 12px; cursor: pointer; }
.opskit-btn:hover:not(:disabled) { border-color: var(--opskit-accent); }
.opskit-btn:disabled { opacity: .55; cursor: not-allowed; }
.opskit-btn-primary { background: var(--opskit-accent); border-color: var(--opskit-accent); color: var(--opskit-accent-fg); }
.opskit-btn-danger { background: var(--opskit-danger); border-color: var(--opskit-danger); color: #fff; }
.opskit-btn-link { border: none; background: none; color: var(--opskit-accent); padding: 0; cursor: pointer; text-decoration: underline; }
.opskit :focus-visible { outline: 2px solid var(--opskit-accent); outline-offset: 2px; }
.opskit-actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
.opskit-table { width: 100%; border-collapse: collapse; font-size: 13px; }
.opskit-table th { text-align: left; font-weight: 600; color: var(--opskit-muted); border-bottom: 1px solid var(--opskit-border); padding: 6px 8px; white-space: nowrap; }
.opskit-table td { border-bottom: 1px solid var(--opskit-border); padding: 6px 8px; vertical-align: top; }
.opskit-table tr[aria-selected="true"] td { background: #eef2fe; }
.opskit-mono { font-family: var(--opskit-mono); font-size: 12px; word-break: break-all; }
.opskit-muted { color: var(--opskit-muted); }
.opskit-badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; background: var(--opskit-bg); border: 1px solid var(--opskit-border); }
.opskit-badge-ok { background: var(--opskit-ok-bg); color: var(--opskit-ok); border-color: transparent; }
.opskit-badge-bad { background: var(--opskit-danger-bg); color: var(--opskit-danger); border-color: transparent; }
.opskit-error { border: 1px solid var(--opskit-danger); background: var(--opskit-danger-bg); border-radius: var(--opskit-radius); padding: 10px 12px; margin: 8px 0; }
.opskit-error strong { color: var(--opskit-danger); }
.opskit-error p { margin: 4px 0 0; }
.opskit-notice { border: 1px solid var(--opskit-ok); background: var(--opskit-ok-bg); border-radius: var(--opskit-radius); padding: 8px 12px; margin: 8px 0; }
.opskit-warn { background: var(--opskit-warn-bg); border-radius: var(--opskit-radius); padding: 8px 12px; margin: 8px 0; }
.opskit-diff td.opskit-changed { background: var(--opskit-warn-bg); }
.opskit-diff td.opskit-added { background: var(--opskit-added); }
.opskit-diff td.opskit-removed { background: var(--opskit-removed); }
.opskit-progress { width: 100%; height: 10px; background: var(--opskit-bg); border: 1px solid var(--opskit-border); border-radius: 999px; overflow: hidden; }
.opskit-progress > div { height: 100%; background: var(--opskit-accent); transition: width .3s; }
.opskit-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 8px; margin: 8px 0; }
.opskit-stat { border: 1px solid var(--opskit-border); border-radius: 6px; padding: 8px; }
.opskit-stat b { display: block; font-size: 18px; }
.opskit-reason { border: 1px dashed var(--opskit-border); border-radius: var(--opskit-radius); padding: 10px; margin-top: 8px; background: var(--opskit-bg); }
.opskit-pre { font-family: var(--opskit-mono); font-size: 12px; white-space: pre-wrap; word-break: break-all; margin: 0; }
`;
