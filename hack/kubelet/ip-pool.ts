// Pod IPs from the loopback range: every 127.x.y.z address reaches the host's loopback interface
// on Linux, so each local pod gets an address of its own to bind its servers to.

/** Hands out unique IPv4 addresses counting up from a base, skipping host parts .0 and .255. */
export class IpPool {
  private readonly base: number;
  private readonly inUse = new Map<string, number>(); // owner (pod uid) -> address as a number
  private readonly taken = new Set<number>();
  private next: number;

  /** @param base first address of the range, e.g. '127.1.0.0'; the range ends at 127.255.255.254. */
  constructor(base: string) {
    this.base = parseIpv4(base);
    this.next = this.base;
  }

  /** The address held by owner, allocating one if it has none. Throws when the range is used up. */
  allocate(owner: string): string {
    const held = this.inUse.get(owner);
    if (held !== undefined) return formatIpv4(held);
    const end = lastAddress(this.base);
    const size = end - this.base + 1;
    for (let tried = 0; tried < size; tried++) {
      const candidate = this.next;
      this.next = candidate >= end ? this.base : candidate + 1;
      const hostPart = candidate & 0xff;
      if (hostPart === 0 || hostPart === 255 || this.taken.has(candidate)) continue;
      this.taken.add(candidate);
      this.inUse.set(owner, candidate);
      return formatIpv4(candidate);
    }
    throw new Error(
      `pod IP range from ${formatIpv4(this.base)}: every address is in use (${this.taken.size})`,
    );
  }

  /** Marks an address as held (an address already shown in a pod's status, kept across restarts). */
  reserve(owner: string, address: string): boolean {
    const value = parseIpv4(address);
    if (value < this.base || value > lastAddress(this.base) || this.taken.has(value)) return false;
    if (this.inUse.has(owner)) return false;
    this.taken.add(value);
    this.inUse.set(owner, value);
    return true;
  }

  /** Gives back owner's address, if it holds one. */
  release(owner: string): void {
    const held = this.inUse.get(owner);
    if (held === undefined) return;
    this.inUse.delete(owner);
    this.taken.delete(held);
  }

  /** The address owner holds, if any. */
  addressOf(owner: string): string | undefined {
    const held = this.inUse.get(owner);
    return held === undefined ? undefined : formatIpv4(held);
  }
}

/** 127.255.255.254 for a loopback base; otherwise the end of the base's /16. */
function lastAddress(base: number): number {
  if (base >>> 24 === 127) return 0x7ffffffe;
  return (base | 0xffff) >>> 0;
}

export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`expected an IPv4 address like 127.1.0.0, received '${text}'`);
  }
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}
