import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { kustomize } from './kustomize';
import { tempDir } from './temp-dir';

/** The walk renders as kustomize does for what it supports, and refuses everything else. */
describe('kustomize walk', () => {
  let dir: string;
  const write = async (path: string, value: unknown) => {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), stringify(value));
  };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'app' },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'app',
              image: 'app',
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
            },
            { name: 'side', image: 'side:1.0.0' },
          ],
          volumes: [{ name: 'v', secret: { secretName: 'base', defaultMode: 288 } }],
        },
      },
    },
  };

  beforeAll(async () => {
    dir = await tempDir('kustomize-');
    await write('base/deployment.yaml', deployment);
    await write('base/kustomization.yaml', { resources: ['deployment.yaml'] });
    await write('overlay/patch.yaml', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                env: [
                  { name: 'B', value: 'two' },
                  { name: 'C', value: '3' },
                ],
              },
            ],
            volumes: [{ name: 'v', secret: { secretName: 'overlay' } }],
          },
        },
      },
    });
    await write('overlay/kustomization.yaml', {
      namespace: 'ns',
      resources: ['../base'],
      images: [{ name: 'app', newName: 'registry.example.com/app', newTag: '1.2.3' }],
      patches: [{ path: 'patch.yaml' }],
    });
  });

  it('merges containers, env and volumes by name, sets images and the namespace', () => {
    const [rendered] = kustomize(join(dir, 'overlay'));
    expect(rendered).toEqual({
      ...deployment,
      metadata: { name: 'app', namespace: 'ns' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                image: 'registry.example.com/app:1.2.3',
                env: [
                  { name: 'A', value: '1' },
                  { name: 'B', value: 'two' },
                  { name: 'C', value: '3' },
                ],
              },
              { name: 'side', image: 'side:1.0.0' },
            ],
            volumes: [{ name: 'v', secret: { secretName: 'overlay', defaultMode: 288 } }],
          },
        },
      },
    });
  });

  it('refuses what it does not render rather than ignoring it', async () => {
    await write('other/kustomization.yaml', { resources: ['../base'], namePrefix: 'x-' });
    expect(() => kustomize(join(dir, 'other'))).toThrow(/not rendered by this walk: namePrefix/);
    await write('json6902/kustomization.yaml', {
      resources: ['../base'],
      patches: [{ path: 'p.yaml', target: { kind: 'Deployment' } }],
    });
    expect(() => kustomize(join(dir, 'json6902'))).toThrow(/only \{ path \} patches/);
  });
});
