// Types for what Vite provides to the page: CSS imports and the guest list plugin.
/// <reference types="vite/client" />

declare module 'virtual:emu-guests' {
  const guests: import('../guest-images').GuestEntry[];
  export default guests;
}
