/**
 * Loopback source addresses (all of 127/8 reaches a server on 127.0.0.1). The server bounds
 * sockets per client address (WS_MAX_PER_IP), so who connects from where matters: honest users
 * come from many addresses, a few to each (people behind one NAT), and each attacker from an
 * address of its own, as on the internet; attack f's unauthenticated sockets, a botnet, from
 * ever-new ones.
 */
const HONEST_BLOCK = 1;
const ATTACKER_BLOCK = 2;
const BOTNET_BLOCK = 3;
/** Honest users sharing one address. */
const HONEST_PER_ADDRESS = 2;

/** Address `i` (0 .. 62,499) of the block `127.<block>.0.0/16`. */
function address(block: number, i: number): string {
  return `127.${block}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
}

export function honestAddresses(population: number): string[] {
  return Array.from({ length: Math.ceil(population / HONEST_PER_ADDRESS) }, (_, i) => address(HONEST_BLOCK, i));
}

/** The one address of attacker number `n`. */
export function attackerAddress(n: number): string {
  return address(ATTACKER_BLOCK, n);
}

/** The `i`th address of a botnet. */
export function botAddress(i: number): string {
  return address(BOTNET_BLOCK, i);
}
