// Testing Library cleans up after each test only with vitest globals on; do it here instead.
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => {
  if (typeof document !== "undefined") cleanup();
});
