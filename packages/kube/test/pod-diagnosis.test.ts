// Why a colour's pods are not ready, from their status and events, as kubectl describe would say it.
import { describe, expect, it } from '@jest/globals';
import { diagnosePods, podsReport, type PodStatusLike } from '../src/index.js';

const pod = (name: string, status: PodStatusLike['status']): PodStatusLike => ({ metadata: { name }, status });

describe('diagnosePods', () => {
  it('an image that cannot be pulled: the reason and the pull error, once for every pod it stops', () => {
    const waiting = (name: string) =>
      pod(name, {
        containerStatuses: [
          {
            name: 'app',
            ready: false,
            state: {
              waiting: {
                reason: 'ImagePullBackOff',
                message: 'Back-off pulling image "r/shop@sha256:0": ErrImagePull: not found',
              },
            },
          },
        ],
      });
    expect(diagnosePods([waiting('shop-green-a'), waiting('shop-green-b')], [])).toEqual([
      '2 pods (shop-green-a, …): container app: ImagePullBackOff: Back-off pulling image "r/shop@sha256:0": ErrImagePull: not found',
    ]);
  });

  it('a container that keeps crashing: restarts, the exit code and its last five log lines', () => {
    const logs = ['one', 'two', 'three', 'four', 'five', 'six', 'fatal: no config'].join('\n');
    expect(
      diagnosePods(
        [
          pod('shop-green-a', {
            containerStatuses: [
              {
                name: 'app',
                restartCount: 3,
                state: {
                  waiting: {
                    reason: 'CrashLoopBackOff',
                    message: 'back-off 40s restarting failed container=app pod=shop-green-a',
                  },
                },
                lastState: { terminated: { exitCode: 3, reason: 'Error', message: `${logs}\n` } },
              },
            ],
          }),
        ],
        [],
      ),
    ).toEqual([
      'pod shop-green-a: container app: CrashLoopBackOff: back-off 40s restarting failed container=app pod=shop-green-a (restarted 3 times; last exit code 3, Error)\n    | three\n    | four\n    | five\n    | six\n    | fatal: no config',
    ]);
  });

  it('running but not ready: the latest readiness probe failure of that pod', () => {
    const running = pod('shop-green-a', { containerStatuses: [{ name: 'app', ready: false, state: { running: {} } }] });
    const events = [
      {
        involvedObject: { name: 'shop-green-a' },
        reason: 'Unhealthy',
        message: 'Readiness probe failed: old',
        lastTimestamp: '2026-12-01T10:00:00Z',
      },
      {
        involvedObject: { name: 'shop-green-a' },
        reason: 'Unhealthy',
        message: 'Readiness probe failed: HTTP probe failed with statuscode: 503\n',
        lastTimestamp: '2026-12-01T10:00:05Z',
      },
      {
        involvedObject: { name: 'other' },
        reason: 'Unhealthy',
        message: 'not this pod',
        lastTimestamp: '2026-12-01T10:00:09Z',
      },
    ];
    expect(diagnosePods([running], events)).toEqual([
      'pod shop-green-a: container app: running, not ready: Readiness probe failed: HTTP probe failed with statuscode: 503',
    ]);
  });

  it('a pod no node takes, and ready or starting pods say nothing', () => {
    expect(
      diagnosePods(
        [
          pod('a', {
            conditions: [
              { type: 'PodScheduled', status: 'False', message: '0/4 nodes are available: 4 Insufficient cpu.' },
            ],
          }),
          pod('b', { containerStatuses: [{ name: 'app', ready: true, state: { running: {} } }] }),
          pod('c', { containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ContainerCreating' } } }] }),
        ],
        [],
      ),
    ).toEqual(['pod a: not scheduled: 0/4 nodes are available: 4 Insufficient cpu.']);
  });

  it('at most three problems', () => {
    const pods = ['a', 'b', 'c', 'd'].map((name) =>
      pod(name, { conditions: [{ type: 'PodScheduled', status: 'False', message: `no node for ${name}` }] }),
    );
    expect(diagnosePods(pods, [])).toHaveLength(3);
  });
});

describe('podsReport', () => {
  it('asks for the colour pods and their events, and says so when the user may not list them', async () => {
    const asked: string[] = [];
    const report = await podsReport(
      {
        request: async <T>(_method: string, path: string, options?: { query?: Record<string, string> }) => {
          asked.push(`${path}?${new URLSearchParams(options?.query ?? {})}`);
          return { items: [] } as T;
        },
      },
      'shop',
      { 'app.kubernetes.io/name': 'shop', 'deploy-suite.dev/colour': 'green' },
    );
    expect(report).toBe('');
    expect(asked).toEqual([
      '/api/v1/namespaces/shop/pods?labelSelector=app.kubernetes.io%2Fname%3Dshop%2Cdeploy-suite.dev%2Fcolour%3Dgreen',
      '/api/v1/namespaces/shop/events?fieldSelector=involvedObject.kind%3DPod',
    ]);
    const forbidden = await podsReport(
      { request: async () => Promise.reject(Object.assign(new Error('403'), { status: 403 })) },
      'shop',
      {},
    );
    expect(forbidden).toMatch(/may not list pods and events .*rbac\.yaml grants it/);
  });
});
