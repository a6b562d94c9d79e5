import { CLUSTER_TYPE_IDS, type RoutingResponse, isClusterTypeId } from '@petrel/protocol';
export declare function freePort(): Promise<number>;
export declare class RawCluster {
    private readonly metaAddresses;
    private metaLink;
    private metaIndex;
    private readonly links;
    private readonly routing;
    private constructor();
    static open(metaAddresses: string[]): Promise<RawCluster>;
    /** A meta request, following NOT_LEADER and trying each address, for up to 20 s. */
    meta(type: keyof typeof CLUSTER_TYPE_IDS, body: unknown): Promise<unknown>;
    waitHealthy(table: string, timeoutMs: number): Promise<RoutingResponse>;
    private link;
    /** Sends a routed request to the partition's primary, refreshing routing and retrying for up to `timeoutMs`. */
    call(table: string, hashKey: string, sortKey: string, name: 'set' | 'get' | 'del', request: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
    set(table: string, hashKey: string, sortKey: string, value: string): Promise<void>;
    get(table: string, hashKey: string, sortKey: string): Promise<string | null>;
    close(): void;
}
export { isClusterTypeId };
