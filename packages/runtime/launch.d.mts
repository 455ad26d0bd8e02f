/** Runs a package's CLI (compiled, or its TypeScript source in a workspace checkout) and exits with its status. */
export declare function launchCli(binUrl: string, spec: { name: string; cli: string; project: string }): never;
