/** Placeholder so the app synthesizes while the real handler is written. */
export const handler = async (): Promise<never> => {
  throw new Error('Not implemented yet');
};
