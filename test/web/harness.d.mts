// Types for harness.mjs (plain JS so bench/web-boot.mjs runs under bare node).
import type { Browser, Page } from 'playwright-core';

export const REPO_ROOT: string;
export const WEB_DIST: string;
export const CHROMIUM: string;
export const CHROMIUM_ARGS: string[];
export function buildWeb(outDir?: string): Promise<string>;
export function serveStatic(root: string): Promise<{ url: string; close: () => Promise<void> }>;
export function launchChromium(): Promise<Browser>;
export function waitForScreen(page: Page, text: string, timeoutMs: number): Promise<void>;
