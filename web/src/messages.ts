// Errors in words, with what to do about them.

import { ErrorCodes, type ApiError } from "./errors";

export interface ErrorAdvice {
  text: string;
  /** what the page offers next to the text */
  action: "login" | null;
}

function later(seconds: number | null): string {
  if (seconds === null || seconds <= 0) return "in a minute";
  if (seconds < 90) return `in ${seconds} seconds`;
  return `in ${Math.ceil(seconds / 60)} minutes`;
}

export function describeError(error: ApiError): ErrorAdvice {
  if (error.needsLogin) {
    const text =
      error.status === 401
        ? "Your session has expired. Log in again to continue."
        : "Your Battle.net login has expired or was revoked. Log in again to continue.";
    return { text, action: "login" };
  }
  if (error.isBattleNetDown) {
    return {
      text: `Battle.net is unavailable, try again ${later(error.retryAfter)}.`,
      action: null,
    };
  }
  switch (error.code) {
    case ErrorCodes.syncFailed:
      return { text: `The sync failed: ${error.message}. Try again.`, action: null };
    case ErrorCodes.streamLost:
      return {
        text: "The live connection to the sync was lost. Reload the page to see where it stands.",
        action: null,
      };
    case ErrorCodes.network:
    case ErrorCodes.timeout:
      return {
        text: "Guild Sync cannot be reached. Check your connection and try again.",
        action: null,
      };
    default:
      break;
  }
  if (error.status === 404) return { text: "That sync or character was not found.", action: null };
  if (error.status === 400) return { text: error.message, action: null };
  if (error.status >= 500) {
    return { text: "Guild Sync had a problem. Try again in a minute.", action: null };
  }
  return { text: `${error.message}. Try again.`, action: null };
}
