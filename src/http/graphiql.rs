//! GraphiQL, served from assets compiled into the binary so it works offline.
//!
//! The assets are the npm packages graphiql 3.8.3, react 18.3.1 and react-dom 18.3.1 (MIT),
//! stored gzip-compressed and sent as such.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    gzipped: &'static [u8],
}

const ASSETS: [Asset; 4] = [
    Asset {
        name: "graphiql-3.8.3.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("assets/graphiql.min.js.gz"),
    },
    Asset {
        name: "graphiql-3.8.3.min.css",
        content_type: "text/css; charset=utf-8",
        gzipped: include_bytes!("assets/graphiql.min.css.gz"),
    },
    Asset {
        name: "react-18.3.1.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("assets/react.production.min.js.gz"),
    },
    Asset {
        name: "react-dom-18.3.1.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("assets/react-dom.production.min.js.gz"),
    },
];

const FIRST_QUERY: &str = r#"# Welcome to Kith. Press the play button (or Ctrl-Enter) to run.
query FirstLook {
  me { subject roles }
  customers(page: { pageSize: 5 }) {
    totalCount
    items {
      id
      name
      taxId
      accounts { name status contacts { displayName role } }
      contacts { displayName isShared contactPoints { kind formatted } }
    }
  }
}
"#;

/// What a server with a real key (`JWT_SECRET` or `JWT_PUBLIC_KEY_FILE`) says first, above the
/// query. The headers then start empty: a placeholder `Authorization` would be sent as is and
/// refused with a 401, introspection included, and the Docs would not load.
const PASTE_A_TOKEN: &str = r#"# This server checks tokens. To run queries,
# paste into Headers (below):
#   {"Authorization": "Bearer <token>"}
# with a token from your issuer, or from
# `kith token --role ADMIN` run with this
# server's JWT_SECRET. The Docs and
# autocompletion work without one.

"#;

/// The playground page. A development server (no key configured) hands GraphiQL its own
/// ADMIN token; any other starts without an `Authorization` header and says where one goes.
pub async fn page(State(state): State<AppState>) -> Html<String> {
    let (headers, query) = match &state.playground_token {
        Some(token) => (
            serde_json::to_string_pretty(
                &serde_json::json!({ "Authorization": format!("Bearer {token}") }),
            )
            .unwrap_or_default(),
            FIRST_QUERY.to_owned(),
        ),
        None => ("{}".to_owned(), format!("{PASTE_A_TOKEN}{FIRST_QUERY}")),
    };
    let config = serde_json::json!({ "headers": headers, "query": query });
    Html(PAGE.replace("__KITH_CONFIG__", &config.to_string().replace("</", "<\\/")))
}

/// A compiled-in asset, sent gzip-encoded and cached for good (names carry versions).
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.name == file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CONTENT_ENCODING, "gzip"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.gzipped,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Kith GraphiQL</title>
  <link rel="stylesheet" href="/assets/graphiql-3.8.3.min.css">
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/assets/react-18.3.1.production.min.js"></script>
  <script src="/assets/react-dom-18.3.1.production.min.js"></script>
  <script src="/assets/graphiql-3.8.3.min.js"></script>
  <script>
    const config = __KITH_CONFIG__;
    const url = new URL("/graphql", window.location.href);
    const subscriptionUrl = new URL(url);
    subscriptionUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    // Subscriptions go over graphql-transport-ws; GraphiQL passes the headers editor's
    // `Authorization` as `connection_init`'s payload, where Kith reads the token.
    const fetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });
    const root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: config.query,
      defaultHeaders: config.headers,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
    }));
  </script>
</body>
</html>
"#;
