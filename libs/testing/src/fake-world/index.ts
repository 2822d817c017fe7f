export {
  CATEGORIES,
  CITIES,
  generateBusinesses,
  generatePeople,
  type FakeBusiness,
  type FakePerson,
} from './businesses';
export { FakeDirectory, type FakeDirectoryOptions } from './directory';
export { FakeProfileSite } from './profiles';
