// Boots GraphiQL from the gateway's own bundled assets (no CDN). The admin pastes a bearer token
// into the headers tab; introspection in production is answered for admins only.
/* global React, ReactDOM, GraphiQL */
(function () {
  const endpoint = document.body.getAttribute('data-endpoint') || '/graphql';
  const fetcher = GraphiQL.createFetcher({ url: new URL(endpoint, window.location.href).toString() });
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
      defaultQuery:
        '# commerce-graph admin playground\n# Admin operations (and introspection in production) need\n# {"Authorization": "Bearer <token>"} in the Headers tab.\n{\n  products(first: 5) {\n    totalCount\n    nodes { id name price { amountCents currency } }\n  }\n}\n',
    }),
  );
})();
