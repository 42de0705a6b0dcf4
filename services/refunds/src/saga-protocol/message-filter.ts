import type { EventBus, IncomingMessage } from "@money/kafka";

/**
 * The bus as one consumer sees it: messages `keep` refuses are acknowledged
 * without a database transaction or an inbox row. Saga topics carry every
 * participant's commands and every namespace's messages; each consumer
 * handles only its own. `fromBeginning` is where a new group starts.
 */
export function filteredBus(
  bus: EventBus,
  keep: (message: IncomingMessage) => boolean,
  { fromBeginning = true }: { fromBeginning?: boolean } = {},
): EventBus {
  return {
    ensureTopics: (specs) => bus.ensureTopics(specs),
    publish: (messages) => bus.publish(messages),
    close: () => bus.close(),
    subscribe: (options) =>
      bus.subscribe({
        ...options,
        fromBeginning,
        handle: async (message) => {
          if (keep(message)) await options.handle(message);
        },
      }),
  };
}
