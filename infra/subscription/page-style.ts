/** Inline CSS of the subscription page: mobile-first, system fonts, light and dark. */
export const PAGE_STYLE = `
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--fg:#16181d;--muted:#5f6673;--accent:#2f6fed;--ok:#1a7f37;--bad:#c62828}
@media (prefers-color-scheme:dark){:root{--bg:#0f1115;--card:#191c22;--fg:#e8eaf0;--muted:#9aa3b2}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:480px;margin:0 auto;padding:16px}h1{font-size:1.35rem;margin:8px 0 12px}h2{font-size:1.1rem;margin:0 0 8px}
.card{background:var(--card);border-radius:14px;padding:16px;margin-bottom:14px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.status{font-weight:700;font-size:1.1rem;margin:0 0 8px}.ok{color:var(--ok)}.bad{color:var(--bad)}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0}dt{color:var(--muted)}dd{margin:0}
.qr{background:#fff;border-radius:10px;padding:8px;width:min(100%,280px);margin:0 auto}.qr svg{display:block;width:100%;height:auto}
.hint{color:var(--muted);font-size:.9rem;text-align:center}
input{width:100%;padding:10px;border:1px solid var(--muted);border-radius:8px;background:transparent;color:var(--fg);font-size:.85rem}
button,.btn,.add{display:inline-block;border:0;border-radius:10px;padding:11px 14px;font-size:1rem;text-decoration:none;cursor:pointer;background:var(--accent);color:#fff;text-align:center}
button{width:100%;margin-top:8px}.actions{display:flex;gap:8px;margin-top:12px}.actions .btn{flex:1}
.btn:not(.primary){background:transparent;color:var(--accent);border:1px solid var(--accent)}
details{border-top:1px solid rgba(127,127,127,.25);padding:8px 0}summary{font-weight:600;cursor:pointer;padding:4px 0}
.steps{padding-left:20px;color:var(--muted);font-size:.92rem}.apps{list-style:none;padding:0;margin:0}
.apps li{display:flex;justify-content:space-between;align-items:center;padding:6px 0}.add{padding:7px 12px;font-size:.92rem}
`;
