// The one esbuild configuration for action bundles, shared by scripts/bundle.mjs and the bundle tests.
const root = new URL('..', import.meta.url).pathname;

// @actions/core imports its HTTP client (and undici, 400 KiB) only to fetch OIDC tokens, yet loading
// it costs ~55 ms of every action's start. Inside core, the client is replaced by a stand-in that
// loads the real one, split into its own chunk, on first use.
const LAZY_HTTP_CLIENT = `
let real;
const load = async () => (real ??= { client: await import('@actions/http-client'), auth: await import('@actions/http-client/lib/auth') });
export class BearerCredentialHandler {
  constructor(token) { this.token = token; }
}
export class HttpClient {
  constructor(userAgent, handlers, options) { this.args = [userAgent, handlers, options]; }
  async getJson(...args) {
    const { client, auth } = await load();
    const [userAgent, handlers = [], options] = this.args;
    const realHandlers = handlers.map((h) => (h instanceof BearerCredentialHandler ? new auth.BearerCredentialHandler(h.token) : h));
    return new client.HttpClient(userAgent, realHandlers, options).getJson(...args);
  }
}
`;
const lazyHttpClient = {
  name: 'lazy-http-client',
  setup(b) {
    b.onResolve({ filter: /^@actions\/http-client(\/lib\/auth)?$/ }, (args) =>
      args.importer.includes('@actions/core') ? { path: 'lazy-http-client', namespace: 'lazy-http-client' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-http-client' }, () => ({
      contents: LAZY_HTTP_CLIENT,
      resolveDir: root,
      loader: 'js',
    }));
  },
};

// @kubernetes/client-node's config module, which the suite takes for kubeconfig loading and
// authentication (applyOptions), also imports what only the library's own API client and SOCKS proxies
// use: undici (1 MiB), the generated API (330 KiB of models) and socks. Loading them cost ~150 ms of every
// deploy action's start. Inside client-node they are stand-ins that say so if anything ever uses them:
// the suite sends requests through its own transport and refuses a SOCKS proxy-url up front.
const notBundled = (what) =>
  `(() => { throw new Error('${what} is not bundled: the suite sends Kubernetes requests through its own transport'); })`;
const KUBE_CLIENT_STAND_INS = [
  {
    filter: /^undici$/,
    contents: `export class Agent { constructor() { ${notBundled('undici.Agent')}(); } }
export class ProxyAgent { constructor() { ${notBundled('undici.ProxyAgent')}(); } }
export const fetch = () => ${notBundled('undici.fetch')}();`,
  },
  {
    filter: /\/gen\/index\.js$/,
    contents: `export const createConfiguration = () => ${notBundled('the generated API client')}();
export class ServerConfiguration { constructor() { ${notBundled('the generated API client')}(); } }`,
  },
  {
    // Its default import of node:http would make Node build the module's ES namespace, which reads the lazy
    // WebSocket export and loads Node's own undici (~20 ms of every start); the plain module does not.
    filter: /^node:http$/,
    contents: `export default process.getBuiltinModule('node:http');`,
  },
  {
    filter: /^socks(-proxy-agent)?$/,
    contents: `export class SocksProxyAgent { constructor() { ${notBundled('a SOCKS proxy')}(); } }
export const SocksClient = { createConnection: () => ${notBundled('a SOCKS proxy')}() };`,
  },
];
const kubeClientStandIns = {
  name: 'kube-client-stand-ins',
  setup(b) {
    KUBE_CLIENT_STAND_INS.forEach(({ filter }, index) => {
      b.onResolve({ filter }, (args) =>
        /@kubernetes\/client-node\/dist\/config\.js$/.test(args.importer)
          ? { path: `stand-in-${index}`, namespace: 'kube-client-stand-in' }
          : undefined,
      );
    });
    b.onLoad({ filter: /.*/, namespace: 'kube-client-stand-in' }, (args) => ({
      contents: KUBE_CLIENT_STAND_INS[Number(args.path.split('-').pop())].contents,
      resolveDir: root,
      loader: 'js',
    }));
  },
};

// @sigstore/sign fetches Fulcio, Rekor and timestamp authorities with make-fetch-happen, whose agent has
// proxy rules of its own: the bundle takes the suite's adapter (packages/supply-chain/src/sigstore-fetch.ts)
// in its place, so those requests share the one HTTP path (and its proxy and CA rules).
const sigstoreFetch = {
  name: 'sigstore-fetch',
  setup(b) {
    b.onResolve({ filter: /^make-fetch-happen$/ }, () => ({
      path: `${root}packages/supply-chain/src/sigstore-fetch.ts`,
    }));
  },
};

/** esbuild options for one action: ESM for Node 24, minified, the lazy HTTP client split out. */
export function actionBuildOptions(entry, outdir) {
  return {
    entryPoints: [entry],
    outdir,
    entryNames: 'index',
    chunkNames: '[name]-[hash]',
    splitting: true,
    plugins: [lazyHttpClient, kubeClientStandIns, sigstoreFetch],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
    // Some CommonJS dependencies call require(); ESM output needs one defined.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  };
}
