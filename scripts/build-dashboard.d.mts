/** Types of build-dashboard.mjs (plain JavaScript, so that `prepare` runs under any Node). */
export declare const STAMP: string;
export declare function dashboardInputsHash(root: string): string;
export declare function dashboardBuildNeeded(root: string, inputsHash?: string): boolean;
