/** Categories form a tree: a category without a parent is top level. */
export interface Category {
  id: string;
  slug: string;
  name: string;
  description: string;
  parentId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface CategoryDetails {
  slug: string;
  name: string;
  description: string;
  parentId: string | null;
}

/**
 * Moving a category under `newParentId` must keep the tree a tree: the new parent may be neither the
 * category itself nor one of its descendants. `ancestorsOfNewParent`: from the new parent's parent up to the root.
 */
export function wouldCreateCycle(
  categoryId: string,
  newParentId: string | null,
  ancestorsOfNewParent: readonly string[],
): boolean {
  if (newParentId === null) return false;
  return newParentId === categoryId || ancestorsOfNewParent.includes(categoryId);
}
