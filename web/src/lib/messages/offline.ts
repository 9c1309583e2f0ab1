// Reading ahead and working offline on the delegate's tablet (issue 11). Vietnamese first;
// `offlineEn` must carry every key of `offlineVi`.

export const offlineVi = {
  'offline.title': 'Đọc khi không có mạng',
  'offline.download': 'Tải về để đọc trước',
  'offline.update': 'Tải lại tài liệu mới',
  'offline.downloading': 'Đang tải {done}/{of} tài liệu…',
  'offline.status_none': 'Chưa tải',
  'offline.status': 'Đã tải {have}/{total} tài liệu, {size}',
  'offline.no_docs': 'Cuộc họp chưa có tài liệu để tải.',
  'offline.failed': 'Chưa tải được hết tài liệu. Kiểm tra Wi-Fi phòng họp rồi thử lại.',
  'offline.clear': 'Xóa bản tải về',
  'offline.storage': 'Bộ nhớ đã dùng: {used} / {quota}',
  'offline.persisted': 'Bộ nhớ bền vững: {value}',
  'offline.yes': 'có',
  'offline.no': 'không',
  'offline.unknown': 'không rõ',
  'offline.unsupported': 'Trình duyệt này không cho lưu tài liệu để đọc khi không có mạng.',
  'offline.hint': 'Tài liệu đã tải mở được cả khi không có Wi-Fi. Trên iPad, hãy thêm ứng dụng vào Màn hình chính để máy không tự xóa bản tải về.',
  'offline.needs_wifi': 'Cần kết nối Wi-Fi phòng họp',
  'offline.needs_wifi_hint': 'Điểm danh, đăng ký phát biểu và biểu quyết chỉ dùng được khi máy kết nối với máy chủ phòng họp. Bạn vẫn đọc được tài liệu đã tải về.',
} as const;

export const offlineEn: { readonly [K in keyof typeof offlineVi]: string } = {
  'offline.title': 'Reading with no network',
  'offline.download': 'Download to read ahead',
  'offline.update': 'Download the new documents',
  'offline.downloading': 'Downloading {done}/{of} documents…',
  'offline.status_none': 'Not downloaded',
  'offline.status': '{have}/{total} documents downloaded, {size}',
  'offline.no_docs': 'This meeting has no documents to download yet.',
  'offline.failed': 'Not every document could be downloaded. Check the meeting room Wi-Fi and try again.',
  'offline.clear': 'Delete the downloads',
  'offline.storage': 'Storage used: {used} / {quota}',
  'offline.persisted': 'Persistent storage: {value}',
  'offline.yes': 'yes',
  'offline.no': 'no',
  'offline.unknown': 'unknown',
  'offline.unsupported': 'This browser cannot keep documents to read offline.',
  'offline.hint': 'Downloaded documents open even with no Wi-Fi. On an iPad, add the app to the Home Screen so that the downloads are not deleted.',
  'offline.needs_wifi': 'Needs the meeting room Wi-Fi',
  'offline.needs_wifi_hint': 'Check-in, asking to speak and voting work only while this device is connected to the meeting room server. You can still read the downloaded documents.',
};
