// What kind of node this page is served by: a room box ("room") or the central office's hub
// ("hub"), from `GET /api/room` (RoomLive sets it). The staff tabs differ between the two.
export const node = $state<{ role: string | null }>({ role: null });
