/** The ALTCHA solver's Web Worker: the library's handler with the browser's SHA-256 (WebCrypto), off the main thread. */
import { handler } from 'altcha-lib/workers/shared';
import { deriveKey } from 'altcha-lib/algorithms/web/sha';

handler({ deriveKey });
