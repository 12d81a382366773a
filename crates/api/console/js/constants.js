// Values shared by several views (the API's enums and page size).

export const STATUSES = ['scheduled', 'open', 'closing', 'closed', 'cancelled'];
export const KINDS = ['english', 'first_price', 'second_price'];
export const FINAL = new Set(['closed', 'cancelled']);
export const PAGE_SIZE = 20;
