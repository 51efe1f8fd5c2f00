import type { BuildOptions } from 'esbuild';
export function actionBuildOptions(entry: string, outdir: string): BuildOptions & { metafile: true };
