import Crypto
import Foundation

/// The console's assets, compiled into the binary: no CDN, nothing fetched at run time, no build step.
enum ConsoleAssets {
    /// The one stylesheet, inlined in every page (its hash is in the Content-Security-Policy).
    static let css = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}\
        header{background:#1d2330;color:#fff;padding:.5em 1em;display:flex;gap:1em;align-items:center;flex-wrap:wrap}\
        header a{color:#cfe1ff;margin-right:.8em}nav{display:flex;gap:.4em;align-items:center;flex-wrap:wrap}\
        main{padding:1em 1.5em;max-width:1200px}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}\
        table{border-collapse:collapse;background:#fff;margin:.5em 0}th,td{padding:.3em .7em;border-bottom:1px solid #e3e6eb;\
        text-align:left;vertical-align:top}th{background:#eef1f5}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
        td.empty{color:#778}form.inline{display:inline}button{font:inherit;padding:.15em .7em;cursor:pointer}\
        button.danger{color:#a40000}.note{color:#556}.error{color:#a40000}.ok{color:#176b2c}\
        svg{background:#fff;max-width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#1d2330}\
        .badge{display:inline-block;padding:0 .5em;border-radius:.6em;background:#e3e6eb}\
        .badge.active{background:#d5f0dc}.badge.paused,.badge.halted{background:#ffe3c2}\
        #tail{font:12px ui-monospace,monospace}
        """

    /// The live tail's script: appends each Server-Sent Event's row to the table (the page works without it,
    /// showing the rows as of loading).
    static let tailJS = """
        "use strict";
        (function () {
          var body = document.querySelector("#tail tbody");
          if (!body || !window.EventSource) return;
          var source = new EventSource("/console/tail/events");
          // The stream's cursor is read before its headers: once open, every later change arrives.
          source.addEventListener("open", function () { body.setAttribute("data-live", "open"); });
          source.addEventListener("change", function (e) {
            var c = JSON.parse(e.data);
            var tr = document.createElement("tr");
            ["time", "campaign", "user", "channel", "address", "status", "attempts", "note"].forEach(function (k) {
              var td = document.createElement("td");
              td.textContent = c[k] == null ? "" : String(c[k]);
              tr.appendChild(td);
            });
            body.insertBefore(tr, body.firstChild);
            while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
          });
        })();
        """

    /// `'sha256-…'` of the stylesheet, for `style-src`.
    static let cssHash = "'sha256-" + Data(SHA256.hash(data: Data(css.utf8))).base64EncodedString() + "'"

    /// The Content-Security-Policy of every console response: nothing from elsewhere, no inline script, the
    /// one inline stylesheet by hash, no framing.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src \(cssHash); script-src 'self'; connect-src 'self'; img-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}
