// A KubeClient that counts its API calls by verb, resource and HTTP status, so the operator's cost to
// the apiserver can be read per reconcile (brewery_operator_api_requests_total / reconciles). The
// apiserver's own apiserver_request_total has no client label, so the count has to be taken here.
import { httpStatusOf, type KubeClient, type Resource } from './kube-client.js';
import type { OperatorMetrics } from './metrics.js';

export function countedClient(client: KubeClient, metrics: OperatorMetrics): KubeClient {
  const counted =
    <A extends unknown[], R>(verb: string, call: (res: Resource, ...args: A) => Promise<R>) =>
    async (res: Resource, ...args: A): Promise<R> => {
      const resource = res.plural;
      try {
        const result = await call.call(client, res, ...args);
        metrics.apiRequests.inc({ verb, resource, code: '2xx' });
        return result;
      } catch (error) {
        metrics.apiRequests.inc({ verb, resource, code: String(httpStatusOf(error) ?? 'none') });
        throw error;
      }
    };
  return {
    list: counted('list', client.list),
    // A watch counts once, when it is opened.
    watch: counted('watch', client.watch),
    get: counted('get', client.get),
    create: counted('create', client.create),
    replace: counted('update', client.replace),
    replaceStatus: counted('update-status', client.replaceStatus),
    mergePatch: counted('patch', client.mergePatch),
    delete: counted('delete', client.delete),
  };
}
