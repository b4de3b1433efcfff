import FlywheelCore
import Foundation

/// The UI's only static files, compiled into the binary: one stylesheet and one small script. Their
/// URLs carry a digest of their content, so a browser may cache them forever.
enum Assets {
    static let version: String = String(Digest(of: Array((stylesheet + script).utf8)).hex.prefix(12))

    static func file(named name: String) throws -> UIResponse {
        let headers = [("Cache-Control", "public, max-age=31536000, immutable")]
        switch name {
        case "flywheel-\(version).css": return UIResponse(contentType: "text/css; charset=utf-8", body: stylesheet, headers: headers)
        case "flywheel-\(version).js": return UIResponse(contentType: "text/javascript; charset=utf-8", body: script, headers: headers)
        default: throw FlywheelError.notFound("no static file '\(name)'")
        }
    }

    /// Colours are variables: light by default, dark from the browser's preference unless the page
    /// carries an explicit `data-theme`.
    static let stylesheet = """
        :root{--bg:#fff;--fg:#1d2125;--muted:#667085;--line:#e3e6ea;--head:#f6f7f9;--link:#1f5fbf;--accent:#2f7d4f;\
        --bad:#c0392b;--warn:#b7791f;--run:#1f5fbf;--chart:#1f5fbf;--band:rgba(31,95,191,.18);--code:#f2f4f7;color-scheme:light}
        :root[data-theme=dark]{--bg:#15181c;--fg:#e4e7eb;--muted:#98a2b3;--line:#2c3137;--head:#1d2126;--link:#7cacf8;\
        --accent:#57c28a;--bad:#f07167;--warn:#f2b84b;--run:#7cacf8;--chart:#7cacf8;--band:rgba(124,172,248,.22);--code:#22272e;color-scheme:dark}
        @media (prefers-color-scheme:dark){:root:not([data-theme]){--bg:#15181c;--fg:#e4e7eb;--muted:#98a2b3;--line:#2c3137;\
        --head:#1d2126;--link:#7cacf8;--accent:#57c28a;--bad:#f07167;--warn:#f2b84b;--run:#7cacf8;--chart:#7cacf8;\
        --band:rgba(124,172,248,.22);--code:#22272e;color-scheme:dark}}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}
        header.top{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;border-bottom:1px solid var(--line);background:var(--head)}
        .brand{font-weight:700;color:var(--fg)}
        nav a{margin-right:1em;color:var(--muted)}nav a[aria-current]{color:var(--fg);font-weight:600}
        .theme{margin-left:auto;color:var(--muted);font-size:12px}
        main{padding:1em 1.2em;max-width:1600px}
        h1{font-size:20px;margin:.2em 0 .6em}h2{font-size:16px;margin:1.4em 0 .5em}
        .muted{color:var(--muted)}.error{color:var(--bad);white-space:pre-wrap;font-family:ui-monospace,monospace}
        table{border-collapse:collapse;font-variant-numeric:tabular-nums}
        th,td{border-bottom:1px solid var(--line);padding:.3em .6em;text-align:left;vertical-align:top}
        thead th{background:var(--head);position:sticky;top:0;white-space:nowrap}
        td.n{text-align:right;white-space:nowrap}.t{white-space:nowrap}
        .scroll{overflow-x:auto;max-width:100%}
        table.kv th{font-weight:500;color:var(--muted);white-space:nowrap}table.kv td{overflow-wrap:anywhere}
        h3{font-size:14px;margin:1em 0 .4em}
        .badge{display:inline-block;padding:0 .5em;border-radius:8px;font-size:12px;border:1px solid currentColor}
        .badge.finished,.badge.succeeded,.badge.ready,.badge.resolved{color:var(--accent)}
        .badge.failed,.badge.killed,.badge.firing{color:var(--bad)}
        .badge.running,.badge.pending{color:var(--run)}
        .badge.cached,.badge.skipped{color:var(--muted)}
        .bar{display:flex;gap:.5em;align-items:center;flex-wrap:wrap;margin:.4em 0 .8em}
        input[type=text],input[type=search],select{background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:4px;padding:.3em .5em}
        input.filter{min-width:32em;font-family:ui-monospace,monospace}
        button{background:var(--head);color:var(--fg);border:1px solid var(--line);border-radius:4px;padding:.3em .8em;cursor:pointer}
        td>button[name=n],th>button[name=sort]{background:none;border:0;padding:0;color:var(--link);font:inherit;cursor:pointer;text-align:inherit}
        th>button[name=sort]{font-weight:600}td>button[name=n]:hover,th>button[name=sort]:hover{text-decoration:underline}
        .pager{margin:.6em 0;display:flex;gap:1em;align-items:center}
        details.long summary{cursor:pointer}details.long pre{white-space:pre-wrap;max-width:60em}
        details.cols{margin:.3em 0}details.cols .list{max-height:18em;overflow:auto;columns:3;padding:.4em}
        details.cols label{display:block;font-size:12px}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(22em,1fr));gap:0 2em}.grid.wide{grid-template-columns:repeat(auto-fit,minmax(36em,1fr))}
        svg.chart{background:var(--bg);max-width:100%;height:auto}
        svg.chart .axis{stroke:var(--line);fill:none}svg.chart text{fill:var(--muted);font-size:11px}
        svg.chart .env{fill:var(--band);stroke:none}svg.chart .line{fill:none;stroke:var(--chart);stroke-width:1.2}
        code,pre{background:var(--code);border-radius:3px;padding:0 .3em;font-family:ui-monospace,monospace;font-size:12.5px}
        tr.child td:first-child{padding-left:2em}
        .diff{background:var(--band)}
        svg.dag rect{fill:var(--head);stroke:var(--muted);stroke-width:1.5}svg.dag text{fill:var(--fg);font-size:12px}
        svg.dag path{stroke:var(--muted);fill:none}svg.dag .succeeded rect{stroke:var(--accent)}
        svg.dag .failed rect,svg.dag .timed_out rect{stroke:var(--bad);stroke-width:2.5}svg.dag .running rect{stroke:var(--run);stroke-width:2.5}
        svg.dag .waiting rect,svg.dag .skipped rect,svg.dag .cancelled rect{stroke-dasharray:4 3}
        pre.log{white-space:pre-wrap;padding:.6em;max-height:40em;overflow:auto}
        """

    /// Conveniences only: every page works without it.
    static let script = """
        "use strict";
        document.addEventListener("change",e=>{const t=e.target;if(!t.matches("input[name=runs]"))return;
        const n=document.querySelectorAll("input[name=runs]:checked").length,b=document.querySelector("button.compare");
        if(b){b.disabled=n<2;b.textContent=n<2?"Compare (select 2+)":"Compare "+n+" runs"}});
        document.addEventListener("input",e=>{const t=e.target;if(!t.matches("input.colsearch"))return;
        const q=t.value.toLowerCase();for(const l of t.closest("details").querySelectorAll(".list label"))
        l.style.display=l.textContent.toLowerCase().includes(q)?"":"none"});
        document.addEventListener("toggle",async e=>{const t=e.target;if(!t.open||!t.dataset||!t.dataset.load)return;
        const u=t.dataset.load;delete t.dataset.load;try{const r=await fetch(u);if(r.ok)t.querySelector(".picker").innerHTML=await r.text()}catch(_){}},true);
        for(const el of document.querySelectorAll("[data-refresh]")){const ms=+el.dataset.every||3000;
        const tick=async()=>{if(document.hidden)return;try{const r=await fetch(el.dataset.refresh,{headers:{"X-Fragment":"1"}});
        if(r.ok)el.innerHTML=await r.text();if(r.headers.get("X-Live")==="0")clearInterval(h)}catch(_){}};const h=setInterval(tick,ms)}
        """
}
