import { httpRequest } from '@deploy-suite/action-kit';

/** The request the AWS SDK hands its HTTP handler (smithy's HttpRequest), as far as this handler reads it. */
export interface AwsSdkRequest {
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | (string | null)[] | null>;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

// The headers the SDK's protocols and middleware read back (request id, error type, clock skew): the
// suite's HTTP response gives headers by name, so these are the ones handed on.
const READ_HEADERS = [
  'content-type',
  'content-length',
  'date',
  'x-amzn-requestid',
  'x-amz-request-id',
  'x-amz-id-2',
  'x-amzn-errortype',
  'x-amzn-query-error',
  'x-amzn-query-mode',
  'smithy-protocol',
];

/**
 * The AWS SDK's requests sent over the suite's one HTTP path (httpRequest: the runner's proxy and CA
 * rules, as for every other provider) instead of the SDK's own node:https handler, which reads no
 * HTTPS_PROXY. The SDK signs before it hands the request over; the signed headers go as they are.
 */
export function suiteHttpHandler(timeoutMs: number) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: AwsSdkRequest) {
      const url = new URL(
        `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}${request.path}`,
      );
      for (const [name, value] of Object.entries(request.query ?? {}))
        for (const one of Array.isArray(value) ? value : [value]) if (one !== null) url.searchParams.append(name, one);
      const body =
        request.body === undefined || request.body === null
          ? undefined
          : typeof request.body === 'string'
            ? Buffer.from(request.body)
            : request.body instanceof Uint8Array
              ? // A view of the SDK's bytes, not a copy through Buffer.from(value) (which the SDK warns on).
                Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength)
              : undefined;
      if (request.body !== undefined && request.body !== null && body === undefined)
        throw new Error('the AWS SDK handed over a streamed body, which this handler does not send');
      const response = await httpRequest(url, {
        method: request.method,
        headers: request.headers,
        ...(body ? { body } : {}),
        timeoutMs,
        // Signed for one host: a redirect elsewhere would carry the signature there.
        maxRedirects: 0,
      });
      const headers: Record<string, string> = {};
      for (const name of READ_HEADERS) {
        const value = response.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      return { response: { statusCode: response.status, headers, body: new Uint8Array(response.body) } };
    },
    updateHttpClientConfig(): void {},
    httpHandlerConfigs(): Record<string, never> {
      return {};
    },
    destroy(): void {},
  };
}
