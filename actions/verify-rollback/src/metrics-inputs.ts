import { InputReader, maskSecret } from '@deploy-suite/action-kit';
import {
  AWS_REGION,
  DATADOG_SITES,
  DEFAULT_SELECTORS,
  METRICS_PROVIDERS,
  bracketProblem,
  datadogApiBase,
  matcherLabels,
  newRelicEndpoint,
  parseDatadogTags,
  parseLabelMatchers,
  parseWebQuery,
  type MetricsProvider,
  type MetricsProviderKind,
  type MetricsSelector,
} from '@deploy-suite/checks';

/** `metrics-provider`: which service answers the metric checks (prometheus unless given). */
export function readProviderKind(reader: InputReader): MetricsProviderKind {
  return reader.oneOf('metrics-provider', METRICS_PROVIDERS, 'prometheus');
}

/**
 * The provider's connection, its keys masked first. `needed`: metric checks are set, so what the
 * provider cannot work without is required; otherwise (no metric check) undefined and nothing required.
 */
export function readMetricsProvider(
  reader: InputReader,
  kind: MetricsProviderKind,
  needed: boolean,
  env: NodeJS.ProcessEnv = process.env,
): MetricsProvider | undefined {
  // Read (and masked) whatever the provider: a key given for another provider must not print either.
  const prometheusUrl = reader.string('prometheus-url');
  const prometheusHeaders = readHeaderLines(reader, 'prometheus-headers', 'X-Scope-OrgID: team-a');
  const token = reader.string('prometheus-token');
  maskSecret(token);
  const datadogApiKey = reader.string('datadog-api-key');
  const datadogApplicationKey = reader.string('datadog-application-key');
  const site = reader.string('datadog-site', { default: 'datadoghq.com' });
  const newRelicApiKey = reader.string('newrelic-api-key');
  const accountText = reader.string('newrelic-account-id');
  const region = reader.string('newrelic-region', { default: 'us' });
  const webHeaders = readHeaderLines(reader, 'web-headers', 'Authorization: Bearer …');
  for (const key of [datadogApiKey, datadogApplicationKey, newRelicApiKey]) maskSecret(key);
  // configure-aws-credentials masks what it exports; credentials put in env by hand are masked here.
  if (kind === 'cloudwatch') for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) maskSecret(env[name]);
  const awsRegion = reader.string('cloudwatch-region') || env.AWS_REGION || env.AWS_DEFAULT_REGION || '';
  const cloudWatchEndpoint = reader.string('cloudwatch-endpoint');

  if (prometheusUrl && !/^https?:\/\/\S+$/.test(prometheusUrl))
    reader.problem(
      'prometheus-url',
      `'${prometheusUrl}' is not an http(s) URL`,
      'give the Prometheus base URL, e.g. http://prometheus.monitoring:9090',
    );
  if (token) {
    if (prometheusHeaders.authorization)
      reader.problem(
        'prometheus-token',
        'is set while prometheus-headers has an Authorization header too',
        'give the token in one of them: prometheus-token for Bearer, the header for another scheme',
      );
    else prometheusHeaders.authorization = `Bearer ${token}`;
  }
  const base = datadogApiBase(site);
  if (!base)
    reader.problem(
      'datadog-site',
      `'${site}' is not a Datadog site`,
      `use your site as its docs name it (${DATADOG_SITES.join(', ')}), or the https URL of an endpoint that serves the API`,
    );
  const endpoint = newRelicEndpoint(region);
  if (!endpoint)
    reader.problem(
      'newrelic-region',
      `'${region}' is not a New Relic region`,
      'use us or eu (or the https URL of a NerdGraph endpoint)',
    );
  const accountId = /^[1-9][0-9]*$/.test(accountText) ? Number(accountText) : undefined;
  if (accountText && accountId === undefined)
    reader.problem(
      'newrelic-account-id',
      `'${accountText}' is not an account id`,
      'give the numeric id of the account (New Relic: Administration > Access management > Accounts)',
    );

  if (awsRegion && !AWS_REGION.test(awsRegion))
    reader.problem(
      'cloudwatch-region',
      `'${awsRegion}' is not an AWS region`,
      'give the region of the metrics, e.g. us-east-1 or eu-central-1',
    );
  let cloudWatchUrl: URL | undefined;
  if (cloudWatchEndpoint) {
    try {
      cloudWatchUrl = new URL(cloudWatchEndpoint);
      if (!/^https?:$/.test(cloudWatchUrl.protocol)) throw new Error('not http(s)');
    } catch {
      cloudWatchUrl = undefined;
      reader.problem(
        'cloudwatch-endpoint',
        `'${cloudWatchEndpoint}' is not an http(s) URL`,
        "give the endpoint of the CloudWatch API (a VPC endpoint, FIPS), e.g. https://monitoring.us-east-1.amazonaws.com, or leave it empty for the region's",
      );
    }
  }

  if (!needed) return undefined;
  switch (kind) {
    case 'prometheus':
      if (!prometheusUrl) {
        reader.problem('prometheus-url', 'is empty while metric checks are set', 'give the Prometheus base URL');
        return undefined;
      }
      return { kind, url: prometheusUrl, headers: prometheusHeaders };
    case 'datadog':
      for (const [name, value, what] of [
        ['datadog-api-key', datadogApiKey, 'an API key'],
        ['datadog-application-key', datadogApplicationKey, 'an application key with the timeseries_query scope'],
      ] as const)
        if (!value)
          reader.problem(
            name,
            'is empty while metrics-provider is datadog',
            `pass ${what} from a secret, e.g. \${{ secrets.${name.replaceAll('-', '_').toUpperCase()} }}`,
          );
      if (!datadogApiKey || !datadogApplicationKey || !base) return undefined;
      return { kind, base, apiKey: datadogApiKey, applicationKey: datadogApplicationKey };
    case 'newrelic':
      if (!newRelicApiKey)
        reader.problem(
          'newrelic-api-key',
          'is empty while metrics-provider is newrelic',
          'pass a user key (NRAK-…) from a secret, e.g. ${{ secrets.NEW_RELIC_API_KEY }}',
        );
      if (!accountText)
        reader.problem(
          'newrelic-account-id',
          'is empty while metrics-provider is newrelic',
          'give the numeric id of the account the NRQL runs in',
        );
      if (!newRelicApiKey || accountId === undefined || !endpoint) return undefined;
      return { kind, endpoint, apiKey: newRelicApiKey, accountId };
    case 'cloudwatch':
      if (!awsRegion) {
        reader.problem(
          'cloudwatch-region',
          'is empty, and neither AWS_REGION nor AWS_DEFAULT_REGION is set',
          'give the region of the metrics, or run aws-actions/configure-aws-credentials (with aws-region) before this step',
        );
        return undefined;
      }
      if (!AWS_REGION.test(awsRegion) || (cloudWatchEndpoint && !cloudWatchUrl)) return undefined;
      return { kind, region: awsRegion, ...(cloudWatchUrl ? { endpoint: cloudWatchUrl } : {}) };
    case 'web':
      return { kind, headers: webHeaders };
  }
}

/**
 * `metrics-selector` in the provider's own terms (its default when empty, `none` for nothing): Prometheus
 * label matchers, Datadog tags, an NRQL condition. App and colour are the built-in checks' already.
 */
export function readMetricsSelector(
  reader: InputReader,
  kind: MetricsProviderKind,
  fill: (text: string) => string,
): MetricsSelector {
  const text = fill(reader.string('metrics-selector') || DEFAULT_SELECTORS[kind]);
  const none = text === 'none';
  switch (kind) {
    case 'prometheus': {
      if (none) return { kind, matchers: [] };
      const parsed = parseLabelMatchers(text);
      if ('problem' in parsed) {
        reader.problem(
          'metrics-selector',
          parsed.problem,
          'write PromQL label matchers separated by commas, e.g. namespace="{{namespace}}", cluster="eu-1" (none: app and colour only)',
        );
        return { kind, matchers: [] };
      }
      const taken = matcherLabels(parsed.matchers).find((label) => label === 'app' || label === 'colour');
      if (taken) {
        reader.problem(
          'metrics-selector',
          `matches on '${taken}', which the built-in queries already select (the app input and the live colour)`,
          'leave app and colour out of it; give only the labels that narrow them further, e.g. namespace or cluster',
        );
        return { kind, matchers: [] };
      }
      return { kind, matchers: parsed.matchers };
    }
    case 'datadog': {
      if (none) return { kind, tags: [] };
      const parsed = parseDatadogTags(text);
      if ('problem' in parsed) {
        reader.problem(
          'metrics-selector',
          parsed.problem,
          'write Datadog tags separated by commas, e.g. kube_namespace:{{namespace}}, env:prod (none: service and colour only)',
        );
        return { kind, tags: [] };
      }
      const taken = parsed.tags.find((t) => /^!?(service|colour):/.test(t));
      if (taken) {
        reader.problem(
          'metrics-selector',
          `'${taken}' is a tag the built-in queries already select (service is the app, colour the live colour)`,
          'give only the tags that narrow them further, e.g. kube_namespace or env',
        );
        return { kind, tags: [] };
      }
      return { kind, tags: parsed.tags };
    }
    case 'newrelic': {
      if (none) return { kind, where: '' };
      const syntax = bracketProblem(text);
      if (syntax)
        reader.problem(
          'metrics-selector',
          `'${text}' is not an NRQL condition: ${syntax}`,
          "write it as NRQL's WHERE does, e.g. environment = 'production'",
        );
      return { kind, where: syntax ? '' : text };
    }
    case 'cloudwatch':
    case 'web':
      return { kind };
  }
}

/** What is plainly wrong with a custom check's query for the provider (before anything is sent). */
export function queryProblem(kind: MetricsProviderKind, query: string): { problem: string; fix: string } | undefined {
  if (kind === 'web') {
    const parsed = parseWebQuery(query);
    return 'problem' in parsed ? parsed : undefined;
  }
  const syntax = bracketProblem(query);
  if (!syntax) return undefined;
  const language = {
    prometheus: 'PromQL',
    datadog: 'Datadog query syntax',
    newrelic: 'NRQL',
    cloudwatch: 'a CloudWatch metric math or Metrics Insights query',
  }[kind];
  const where = {
    prometheus: 'the Prometheus UI',
    datadog: "Datadog's Metrics Explorer",
    newrelic: "New Relic's query builder",
    cloudwatch: "the CloudWatch console's metrics query editor",
  }[kind];
  return { problem: `is not valid ${language}: ${syntax}`, fix: `fix the query (try it in ${where} first)` };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SECRET_HEADER = /authorization|token|key|secret|password|cookie/i;

/**
 * `Name: value` lines (a tenant header such as X-Scope-OrgID, an API key): values of headers whose names
 * say they are credentials are masked, and the credential after an auth scheme on its own.
 */
function readHeaderLines(reader: InputReader, input: string, example: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of reader.list(input, { separators: 'newline' })) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    const value = colon > 0 ? line.slice(colon + 1).trim() : '';
    if (!HEADER_NAME.test(name) || !value) {
      reader.problem(
        input,
        `'${name || line.slice(0, 40)}' is not a header line`,
        `write one Name: value per line, e.g. ${example}`,
      );
      continue;
    }
    if (SECRET_HEADER.test(name)) {
      maskSecret(value);
      // `Bearer <token>`, `Basic <base64>`: the credential alone may be printed by whatever echoes it.
      maskSecret(/^[A-Za-z][\w-]*\s+(\S{4,})$/.exec(value)?.[1]);
    }
    headers[name.toLowerCase()] = value;
  }
  return headers;
}
